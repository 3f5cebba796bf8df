import type { DataSource, EntityManager } from 'typeorm';
import {
  createServiceDataSource,
  createKafkaState,
  createTransportTables,
  OutboxWriter,
  TOPICS,
  type EventEnvelope,
  type EventHandler,
  type NewEvent,
} from '#common';

/** The producer is a stand-in consent service; the consumer a stand-in audit service. */
export const PRODUCER_SCHEMA = 'consent';
export const CONSUMER_SCHEMA = 'audit';
export const TOPIC = TOPICS.consent;

export interface TestEventData {
  seq: number;
}

/** Creates both services' transport tables and the consumer's effect table. */
export async function prepareTransportDatabase(url: string): Promise<DataSource> {
  const ds = createServiceDataSource({ url, schema: 'public', migrations: [], poolSize: 20 });
  await ds.initialize();
  const runner = ds.createQueryRunner();
  await createTransportTables(runner, PRODUCER_SCHEMA);
  await createTransportTables(runner, CONSUMER_SCHEMA);
  await createKafkaState(runner, PRODUCER_SCHEMA);
  await createKafkaState(runner, CONSUMER_SCHEMA);
  await runner.query(`
    CREATE TABLE IF NOT EXISTS ${CONSUMER_SCHEMA}.applied (
      applied_order bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id uuid NOT NULL,
      subject text NOT NULL,
      seq integer NOT NULL
    )`);
  await runner.release();
  return ds;
}

/** The consumer's effect: one row per applied event, in the order applied. */
export function recordingHandler(delayMs = 0): EventHandler {
  return {
    async handle(events: readonly EventEnvelope[], tx: EntityManager): Promise<void> {
      await tx.query(
        `INSERT INTO ${CONSUMER_SCHEMA}.applied (event_id, subject, seq)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[])`,
        [
          events.map((e) => e.id),
          events.map((e) => e.subjectId ?? e.streamId),
          events.map((e) => (e.data as TestEventData).seq),
        ],
      );
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    },
  };
}

/** Subject ids for the run; each subject's events carry seq 1, 2, 3, ... in write order. */
export function subjectIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `subject-${String(i).padStart(4, '0')}`);
}

/** Writes `transactions` × `perTransaction` events round-robin over the subjects. */
export async function produce(
  ds: DataSource,
  options: { transactions: number; perTransaction: number; subjects: number; prefix?: string },
): Promise<number> {
  const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
  const subjects = subjectIds(options.subjects).map((s) => `${options.prefix ?? ''}${s}`);
  const seqs = new Map<string, number>();
  let n = 0;
  for (let t = 0; t < options.transactions; t++) {
    const batch: NewEvent[] = [];
    for (let i = 0; i < options.perTransaction; i++) {
      const subject = subjects[n++ % subjects.length];
      const seq = (seqs.get(subject) ?? 0) + 1;
      seqs.set(subject, seq);
      batch.push(testEvent(subject, seq));
    }
    await ds.transaction((tx) => writer.append(tx, batch));
  }
  return n;
}

export function testEvent(subject: string, seq: number): NewEvent<TestEventData> {
  return {
    type: 'test.happened.v1',
    streamId: subject,
    streamVersion: seq,
    subjectId: subject,
    actor: { userId: 'tester', org: 'X26', role: 'system' },
    correlationId: `corr-${subject}-${seq}`,
    causationId: null,
    data: { seq },
  };
}

export interface AppliedSummary {
  total: number;
  distinct: number;
  /** Subjects whose events were applied out of write order. */
  outOfOrder: string[];
}

/** Reads what the consumer applied and checks exactly-once and per-subject order. */
export async function summariseApplied(ds: DataSource): Promise<AppliedSummary> {
  const [{ total, distinct }] = await ds.query(
    `SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM ${CONSUMER_SCHEMA}.applied`,
  );
  const rows: { subject: string }[] = await ds.query(`
    SELECT subject FROM (
      SELECT subject, seq, row_number() OVER (PARTITION BY subject ORDER BY applied_order) AS nth
        FROM ${CONSUMER_SCHEMA}.applied) ordered
     WHERE seq <> nth
     GROUP BY subject`);
  return { total, distinct, outOfOrder: rows.map((r) => r.subject) };
}

export async function countApplied(ds: DataSource): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM ${CONSUMER_SCHEMA}.applied`);
  return n;
}

/** Polls until `check` is true or the deadline passes. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}
