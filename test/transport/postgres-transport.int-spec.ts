import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  OutboxWriter,
  PostgresConsumer,
  READ_BATCH_SETTING,
  readBatchQuery,
  waitingQuery,
} from '#common';
import { killAndWait, startScript } from '../support/child-process';
import { createTestDatabase } from '../support/test-database';
import {
  CONSUMER_SCHEMA,
  countApplied,
  prepareTransportDatabase,
  produce,
  PRODUCER_SCHEMA,
  recordingHandler,
  subjectIds,
  summariseApplied,
  testEvent,
  TOPIC,
  waitFor,
} from '../support/transport-harness';

jest.setTimeout(120_000);

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

describe('PostgreSQL transport', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeEach(async () => {
    db = await createTestDatabase('pgtransport');
    ds = await prepareTransportDatabase(db.url);
  });

  afterEach(async () => {
    await ds.destroy();
    await db.drop();
  });

  function consumer(group = 'audit.ingest', batchSize = 500): PostgresConsumer {
    return new PostgresConsumer(
      ds,
      { group, topic: TOPIC, schema: CONSUMER_SCHEMA, handler: recordingHandler() },
      { batchSize, pollIntervalMs: 20 },
    );
  }

  it('delivers 10,000 events from 200 transactions exactly once, in per-subject order', async () => {
    const c = consumer();
    await c.start();
    const written = await produce(ds, { transactions: 200, perTransaction: 50, subjects: 97 });
    expect(written).toBe(10_000);
    await waitFor(async () => (await countApplied(ds)) >= 10_000, 60_000, '10,000 applied');
    await c.stop();
    expect(await summariseApplied(ds)).toEqual({ total: 10_000, distinct: 10_000, outOfOrder: [] });
  });

  it('polls an idle outbox without a transaction, and is caught up only when nothing committed waits', async () => {
    // The moments the consumer vouches for: every committed event before each was applied.
    const told: (Date | undefined)[] = [];
    const dbNow = async () =>
      ((await ds.query(`SELECT clock_timestamp() AS now`)) as { now: Date }[])[0].now.getTime();
    const c = new PostgresConsumer(
      ds,
      {
        group: 'audit.ingest',
        topic: TOPIC,
        schema: CONSUMER_SCHEMA,
        handler: { ...recordingHandler(), caughtUp: async (asOf) => void told.push(asOf) },
      },
      { batchSize: 500, pollIntervalMs: 20 },
    );
    expect(await c.pollOnce()).toBe(0);
    const transactions = jest.spyOn(ds, 'transaction');
    try {
      for (let i = 0; i < 5; i++) expect(await c.pollOnce()).toBe(0);
      // Nothing waited: no reading transaction (no checkpoint lock, no commit), and each poll
      // told the handler it is caught up (the gateway's replica freshness rests on it).
      expect(transactions).not.toHaveBeenCalled();
      expect(told).toHaveLength(5);
      expect(told.every((asOf) => asOf instanceof Date)).toBe(true);

      // An event committed behind a writing transaction still running is held back: it is not
      // read yet, and the consumer no longer says it is caught up.
      const running = ds.createQueryRunner();
      await running.startTransaction();
      await running.query('SELECT pg_current_xact_id()');
      await produce(ds, { transactions: 1, perTransaction: 1, subjects: 1, prefix: 'late-' });
      const lateCommitted = await dbNow();
      transactions.mockClear();
      expect(await c.pollOnce()).toBe(0);
      expect(await c.pollOnce()).toBe(0);
      expect(transactions).not.toHaveBeenCalled();
      expect(told).toHaveLength(5);
      expect(Math.max(...told.map((asOf) => asOf?.getTime() ?? Infinity))).toBeLessThan(
        lateCommitted,
      );

      await running.commitTransaction();
      await running.release();
      expect(await c.pollOnce()).toBe(1);
      expect(transactions).toHaveBeenCalledTimes(1);
      expect(told).toHaveLength(6);
      // The read that took the late event began after it committed, and not after the answer.
      expect(told[5]?.getTime()).toBeGreaterThanOrEqual(lateCommitted);
      expect(told[5]?.getTime()).toBeLessThanOrEqual(await dbNow());
      await produce(ds, { transactions: 1, perTransaction: 3, subjects: 2 });
      expect(await c.pollOnce()).toBe(3);
      expect(told).toHaveLength(7);

      // A batch that reads the rows it may while another committed row is held back behind a
      // running transaction does not say it is caught up either: that row is not in it.
      const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
      const older = ds.createQueryRunner();
      await older.startTransaction();
      await writer.append(older.manager, [testEvent('older', 1)]);
      const running2 = ds.createQueryRunner();
      await running2.startTransaction();
      await running2.query('SELECT pg_current_xact_id()');
      await produce(ds, { transactions: 1, perTransaction: 1, subjects: 1, prefix: 'newer-' });
      await older.commitTransaction();
      await older.release();
      expect(await c.pollOnce()).toBe(1);
      expect(told).toHaveLength(7);
      await running2.commitTransaction();
      await running2.release();
      expect(await c.pollOnce()).toBe(1);
      expect(told).toHaveLength(8);
      expect(await summariseApplied(ds)).toEqual({ total: 6, distinct: 6, outOfOrder: [] });
    } finally {
      transactions.mockRestore();
    }
  });

  it('reads a batch from the read-order index, not the whole backlog after the checkpoint', async () => {
    // A backlog of 10,000 events the statistics do not know of yet (they lag a table that only
    // grows): the planner expects a few hundred rows after the checkpoint.
    await produce(ds, { transactions: 20, perTransaction: 500, subjects: 50 });
    const plan = await ds.transaction(async (tx) => {
      await tx.query(READ_BATCH_SETTING);
      const [row]: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] = await tx.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${readBatchQuery(PRODUCER_SCHEMA)}`,
        [TOPIC, '0', '0', 1000],
      );
      return row['QUERY PLAN'][0].Plan;
    });
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan);
    // One ordered index scan that stops after the batch: no sort, no bitmap of 10,000 rows.
    expect(nodes.map((n) => n['Node Type'])).toEqual(['Limit', 'Index Scan']);
    expect(nodes[1]['Index Name']).toBe('outbox_read_order');
    expect(nodes[1]['Actual Rows']).toBe(1000);
  });

  it("asks an idle outbox from its checkpoint, not from the topic's first row", async () => {
    // 20,000 events read: every idle poll asks what waits after the checkpoint at their end.
    await produce(ds, { transactions: 40, perTransaction: 500, subjects: 50 });
    const c = consumer('audit.ingest', 5000);
    while ((await c.pollOnce()) > 0);
    await ds.query(`ANALYZE "${PRODUCER_SCHEMA}".outbox`);
    await ds.query(`ANALYZE "${CONSUMER_SCHEMA}".consumer_checkpoints`);
    const [row]: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] = await ds.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${waitingQuery(PRODUCER_SCHEMA, CONSUMER_SCHEMA)}`,
      ['audit.ingest', TOPIC],
    );
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(row['QUERY PLAN'][0].Plan);
    const outboxScans = nodes.filter((n) => n['Relation Name'] === 'outbox');
    expect(outboxScans.length).toBeGreaterThan(0);
    // Each outbox scan starts at the checkpoint, finds nothing after it and stops: it neither
    // returns nor throws away the 20,000 rows before it (a join from the topic's first row did,
    // on every poll, at a cost growing with the outbox).
    for (const scan of outboxScans) {
      expect(scan['Index Name']).toBe('outbox_read_order');
      expect(scan['Actual Rows']).toBe(0);
    }
    const discarded = nodes.map(
      (n) => (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Join Filter'] ?? 0),
    );
    expect(Math.max(...discarded)).toBeLessThan(10);
    await produce(ds, { transactions: 1, perTransaction: 1, subjects: 1, prefix: 'next-' });
    const [waiting]: { due: boolean; pending: boolean }[] = await ds.query(
      waitingQuery(PRODUCER_SCHEMA, CONSUMER_SCHEMA),
      ['audit.ingest', TOPIC],
    );
    expect(waiting).toMatchObject({ due: true, pending: true });
  });

  it('passes over the events a handler does not select: no envelope read, no inbox row', async () => {
    await produce(ds, { transactions: 10, perTransaction: 100, subjects: 10 });
    const seen: string[] = [];
    const c = new PostgresConsumer(
      ds,
      {
        group: 'audit.selective',
        topic: TOPIC,
        schema: CONSUMER_SCHEMA,
        handler: {
          ...recordingHandler(),
          // The SQL keeps a little more than matches does (both subjects 0 and 1; matches only
          // the first events of each): matches decides.
          select: {
            sql: `o.envelope->>'subjectId' IN ('${subjectIds(10)[0]}', '${subjectIds(10)[1]}')`,
            matches: (e) => {
              seen.push(e.subjectId as string);
              return (e.data as { seq: number }).seq <= 5;
            },
          },
        },
      },
      { batchSize: 128, pollIntervalMs: 20 },
    );
    while ((await c.pollOnce()) > 0);
    // Only the SQL's 200 rows reached Node; matches kept 5 of each of the two subjects.
    expect(new Set(seen)).toEqual(new Set(subjectIds(10).slice(0, 2)));
    expect(seen).toHaveLength(200);
    expect(await summariseApplied(ds)).toEqual({ total: 10, distinct: 10, outOfOrder: [] });
    const [{ inbox }] = await ds.query(
      `SELECT count(*)::int AS inbox FROM ${CONSUMER_SCHEMA}.inbox WHERE consumer_group = 'audit.selective'`,
    );
    expect(inbox).toBe(10);
    // The checkpoint moved past all 1,000: nothing is read again.
    expect(await c.pollOnce()).toBe(0);
  });

  it('keeps no inbox for a handler that recognises events it applied before', async () => {
    await produce(ds, { transactions: 4, perTransaction: 50, subjects: 20 });
    const c = new PostgresConsumer(
      ds,
      {
        group: 'audit.own-keys',
        topic: TOPIC,
        schema: CONSUMER_SCHEMA,
        handler: { ...recordingHandler(), deduplicates: true },
      },
      { batchSize: 64, pollIntervalMs: 20 },
    );
    while ((await c.pollOnce()) > 0);
    expect(await summariseApplied(ds)).toEqual({ total: 200, distinct: 200, outOfOrder: [] });
    const [{ inbox }] = await ds.query(
      `SELECT count(*)::int AS inbox FROM ${CONSUMER_SCHEMA}.inbox WHERE consumer_group = 'audit.own-keys'`,
    );
    expect(inbox).toBe(0);
  });

  it('publishes nothing from a producer transaction that rolled back', async () => {
    const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
    await expect(
      ds.transaction(async (tx) => {
        await writer.append(tx, [testEvent('rolled-back', 1)]);
        throw new Error('business rule failed after the event was written');
      }),
    ).rejects.toThrow('business rule failed');
    await ds.transaction((tx) => writer.append(tx, [testEvent('committed', 1)]));

    const c = consumer();
    while ((await c.pollOnce()) > 0);
    const subjects: { subject: string }[] = await ds.query(
      `SELECT subject FROM ${CONSUMER_SCHEMA}.applied`,
    );
    expect(subjects.map((s) => s.subject)).toEqual(['committed']);
  });

  it('refuses to write an event outside a transaction', async () => {
    const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
    await expect(writer.append(ds.manager, [testEvent('loose', 1)])).rejects.toThrow(
      /inside the caller/,
    );
  });

  it('does not skip a row committed late with a lower position', async () => {
    const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
    const early = new Client({ connectionString: db.url });
    await early.connect();
    try {
      // The long transaction takes the lower position first and commits last.
      await early.query('BEGIN');
      await early.query(
        `INSERT INTO ${PRODUCER_SCHEMA}.outbox (event_id, topic, type, stream_id, stream_version, partition_key, envelope)
         VALUES ($1, $2, 'test.happened.v1', 'late', 1, 'late', $3)`,
        [
          '00000000-0000-4000-8000-000000000001',
          TOPIC,
          JSON.stringify({ ...testEvent('late', 1), id: '00000000-0000-4000-8000-000000000001' }),
        ],
      );
      await ds.transaction((tx) => writer.append(tx, [testEvent('prompt', 1)]));
      const positions: { stream_id: string; global_position: string }[] = await ds.query(
        `SELECT stream_id, global_position FROM ${PRODUCER_SCHEMA}.outbox ORDER BY global_position`,
      );
      expect(positions.map((p) => p.stream_id)).toEqual(['prompt']); // 'late' not yet visible

      const c = consumer();
      // While the long transaction runs, the later commit is held back rather than overtaking.
      expect(await c.pollOnce()).toBe(0);

      await early.query('COMMIT');
      const all: { stream_id: string }[] = await ds.query(
        `SELECT stream_id FROM ${PRODUCER_SCHEMA}.outbox ORDER BY global_position`,
      );
      expect(all.map((p) => p.stream_id)).toEqual(['late', 'prompt']);
      while ((await c.pollOnce()) > 0);
      const applied: { subject: string }[] = await ds.query(
        `SELECT subject FROM ${CONSUMER_SCHEMA}.applied ORDER BY applied_order`,
      );
      expect(applied.map((a) => a.subject)).toEqual(['late', 'prompt']);
    } finally {
      await early.end();
    }
  });

  it('loses nothing and applies nothing twice when the consumer process is SIGKILLed', async () => {
    await produce(ds, { transactions: 200, perTransaction: 50, subjects: 50 });
    const env = {
      DATABASE_URL: db.url,
      CONSUMER_GROUP: 'audit.killed',
      BATCH_SIZE: '100',
      APPLY_DELAY_MS: '5',
    };
    let child: ChildProcess = await startScript('test/fixtures/consumer-process.js', env, 'ready');
    await waitFor(async () => (await countApplied(ds)) >= 2_000, 60_000, 'some events applied');
    await killAndWait(child, 'SIGKILL');
    const atKill = await countApplied(ds);
    expect(atKill).toBeLessThan(10_000);

    child = await startScript('test/fixtures/consumer-process.js', env, 'ready');
    await waitFor(async () => (await countApplied(ds)) >= 10_000, 90_000, 'all events applied');
    await killAndWait(child, 'SIGTERM');
    expect(await summariseApplied(ds)).toEqual({ total: 10_000, distinct: 10_000, outOfOrder: [] });
  });

  it('lets only one instance of a group consume at a time', async () => {
    await produce(ds, { transactions: 20, perTransaction: 50, subjects: 7 });
    const a = consumer('audit.shared', 100);
    const b = consumer('audit.shared', 100);
    await Promise.all([a.start(), b.start()]);
    await waitFor(async () => (await countApplied(ds)) >= 1_000, 30_000, '1,000 applied');
    await Promise.all([a.stop(), b.stop()]);
    expect(await summariseApplied(ds)).toEqual({ total: 1_000, distinct: 1_000, outOfOrder: [] });
  });
});
