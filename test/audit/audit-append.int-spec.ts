import { DataSource } from 'typeorm';
import { createServiceDataSource, runMigrations } from '#common';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { LogAppender } from '../../apps/audit-service/src/log/append/log-appender';
import type { EntryContent } from '../../apps/audit-service/src/log/ingest/entry-from-event';
import { LogVerifier } from '../../apps/audit-service/src/log/verify/log-verifier';
import { createTestDatabase } from '../support/test-database';

const content = (n: number): EntryContent => ({
  at: `2026-11-24T09:00:0${n}.000Z`,
  actor: { userId: `sw-${n}`, org: 'X26', role: 'social_worker' },
  subjectId: '9434765919',
  action: 'gateway.decision',
  outcome: 'permit',
  purpose: 'direct-care',
  categories: ['care-plan'],
  legalBasis: null,
  correlationId: `corr-${n}`,
  sourceEventId: `00000000-0000-4000-8000-00000000000${n}`,
  sourceType: 'gateway.decision.v1',
  details: { streamId: `decision-${n}`, streamVersion: 1 },
});

/** The ingest keeps no inbox: an event delivered again must still be logged once. */
describe('LogAppender.appendNew', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('audit_append');
    ds = createServiceDataSource({
      url: db.url,
      schema: AuditServiceDefinition.schema,
      migrations: AuditServiceDefinition.migrations,
      poolSize: 2,
      applicationName: 'audit-append-test',
    });
    await ds.initialize();
    await runMigrations(ds, AuditServiceDefinition.schema);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('appends only the events not logged yet, in order, and the chain stays whole', async () => {
    const appender = new LogAppender();
    const first = await ds.transaction((tx) => appender.appendNew(tx, [content(1), content(2)]));
    expect(first.map((e) => [e.seq, e.sourceEventId])).toEqual([
      [1, content(1).sourceEventId],
      [2, content(2).sourceEventId],
    ]);
    // 2 again (upper case, as another producer might write it), 3 new, 1 again, 4 new.
    const again = { ...content(2), sourceEventId: content(2).sourceEventId.toUpperCase() };
    const second = await ds.transaction((tx) =>
      appender.appendNew(tx, [again, content(3), content(1), content(4)]),
    );
    expect(second.map((e) => [e.seq, e.correlationId])).toEqual([
      [3, 'corr-3'],
      [4, 'corr-4'],
    ]);
    // Nothing new at all: nothing appended, no error.
    expect(await ds.transaction((tx) => appender.appendNew(tx, [content(4)]))).toEqual([]);
    const rows: { seq: string; correlation: string }[] = await ds.query(
      `SELECT seq::text AS seq, entry->>'correlationId' AS correlation FROM audit.entries ORDER BY seq`,
    );
    expect(rows.map((r) => r.correlation)).toEqual(['corr-1', 'corr-2', 'corr-3', 'corr-4']);
    expect(await new LogVerifier(ds).verify()).toMatchObject({ ok: true, checked: 4 });
  });
});
