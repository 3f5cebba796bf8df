import { DataSource } from 'typeorm';
import {
  OVERRIDE_SUBJECT_SQL,
  OVERRIDES_SQL,
} from '../../apps/audit-service/src/break-glass/break-glass.controller';
import { LogAppender } from '../../apps/audit-service/src/log/append/log-appender';
import type { EntryContent } from '../../apps/audit-service/src/log/ingest/entry-from-event';
import { decisionEntry, migratedAuditDataSource } from '../support/audit-log';
import { createTestDatabase } from '../support/test-database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const ENTRIES = 6_000;
/** Every this many entries, one is a safeguarding override. */
const OVERRIDE_EVERY = 500;

const uuid = (prefix: string, n: number) =>
  `${prefix}000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function entry(n: number): EntryContent {
  const override = n % OVERRIDE_EVERY === 0;
  return {
    ...decisionEntry(1),
    subjectId: `4000${String(n).padStart(6, '0')}`,
    sourceEventId: uuid('00', n),
    details: {
      decisionId: uuid('dd', n),
      breakGlass: override
        ? { statute: 'children-act-1989-s47', windowClosesAt: '2026-11-02T09:00:00.000Z' }
        : null,
    },
  };
}

/** The IG officer's list of overrides and a review's lookup, on a log of thousands of entries. */
describe('safeguarding overrides in the log', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('audit_overrides');
    ds = await migratedAuditDataSource(db.url);
    const appender = new LogAppender();
    for (let from = 1; from <= ENTRIES; from += 1000) {
      const batch = Array.from({ length: 1000 }, (_, i) => entry(from + i));
      await ds.transaction((tx) => appender.append(tx, batch));
    }
    await ds.query(`ANALYZE audit.entries`);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** The plan's nodes that read audit.entries, with the query's answer. */
  async function explain(sql: string, params: unknown[]): Promise<PlanNode[]> {
    const [row]: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] = await ds.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
      params,
    );
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      if (node['Relation Name'] === 'entries') nodes.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(row['QUERY PLAN'][0].Plan);
    return nodes;
  }

  it('lists the overrides, oldest first, from their own index and not the whole log', async () => {
    const rows: { seq: string; entry: EntryContent }[] = await ds.query(OVERRIDES_SQL, [
      null,
      0,
      1000,
    ]);
    const expected = Array.from(
      { length: ENTRIES / OVERRIDE_EVERY },
      (_, i) => (i + 1) * OVERRIDE_EVERY,
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(expected);
    expect(rows[0].entry.details).toMatchObject({ decisionId: uuid('dd', OVERRIDE_EVERY) });
    // A page after a cursor: the overrides after that seq, no more than asked.
    const page: { seq: string }[] = await ds.query(OVERRIDES_SQL, [null, expected[4], 3]);
    expect(page.map((r) => Number(r.seq))).toEqual(expected.slice(5, 8));
    const reads = await explain(OVERRIDES_SQL, ['unreviewed', expected[4], 1001]);
    expect(reads.map((n) => n['Index Name'])).toEqual(['entries_overrides']);
  });

  it('finds the person of one override by its decision, and nothing for an ordinary decision', async () => {
    const decision = uuid('dd', 3 * OVERRIDE_EVERY);
    expect(await ds.query(OVERRIDE_SUBJECT_SQL, [decision])).toEqual([
      { subject_id: `4000${String(3 * OVERRIDE_EVERY).padStart(6, '0')}` },
    ]);
    expect(await ds.query(OVERRIDE_SUBJECT_SQL, [uuid('dd', 7)])).toEqual([]);
    const reads = await explain(OVERRIDE_SUBJECT_SQL, [decision]);
    expect(reads.map((n) => n['Index Name'])).toEqual(['entries_override_decisions']);
  });
});
