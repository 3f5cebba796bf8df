import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createKafkaClient,
  KafkaConsumer,
  KafkaRelay,
  OutboxWriter,
  PostgresConsumer,
  type EventConsumer,
} from '#common';
import { kcatInstalled, startKafkaMock } from '../test/support/kafka-mock';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres';
import {
  CONSUMER_SCHEMA,
  countApplied,
  prepareTransportDatabase,
  produce,
  PRODUCER_SCHEMA,
  recordingHandler,
  summariseApplied,
  testEvent,
  TOPIC,
  waitFor,
} from '../test/support/transport-harness';

const TRANSACTIONS = 200;
const PER_TRANSACTION = 50;
const EVENTS = TRANSACTIONS * PER_TRANSACTION;
const ROUNDS = 3;

/** A transport as the benchmark drives it: something that delivers the outbox to the consumer. */
interface TransportUnderTest {
  name: string;
  start(ds: DataSource, round: number): Promise<{ stop(): Promise<void> }>;
}

const postgresTransport: TransportUnderTest = {
  name: 'postgres',
  async start(ds, round) {
    const consumer: EventConsumer = new PostgresConsumer(
      ds,
      {
        group: `bench-${round}`,
        topic: TOPIC,
        schema: CONSUMER_SCHEMA,
        handler: recordingHandler(),
      },
      { batchSize: 1000, pollIntervalMs: 10 },
    );
    await consumer.start();
    return consumer;
  },
};

/**
 * End to end: from the first producer commit to the last event applied by the consumer, for
 * 10,000 events in 200 transactions; compared with plain batched INSERTs of the same rows.
 */
export async function runTransportBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const admin = new Client({ connectionString: pg.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const ds = await prepareTransportDatabase(pg.url('bench'));
  try {
    const baseline = median(await repeat(() => plainInsertRate(ds)));
    line('baseline: plain batched INSERT (200 tx x 50 rows)', baseline, baseline);
    for (const transport of await transports()) {
      const rates: number[] = [];
      for (let round = 0; round < ROUNDS; round++)
        rates.push(await endToEndRate(ds, transport, round));
      line(`${transport.name} transport, commit -> consumer applied`, median(rates), baseline);
    }
  } finally {
    await ds.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Relay + consumer group over the librdkafka mock cluster (3 brokers on loopback). */
const kafkaTransport: TransportUnderTest = {
  name: 'kafka (kcat mock)',
  async start(ds, round) {
    const mock = await startKafkaMock();
    const kafka = createKafkaClient({ brokers: mock.brokers, clientId: 'bench' });
    const relay = new KafkaRelay(ds, {
      schema: PRODUCER_SCHEMA,
      kafka,
      idempotent: false,
      pollIntervalMs: 10,
    });
    const consumer = new KafkaConsumer(
      ds,
      {
        group: `bench-${round}`,
        topic: TOPIC,
        schema: CONSUMER_SCHEMA,
        handler: recordingHandler(),
      },
      {
        kafka,
        sessionTimeout: 3000,
        heartbeatInterval: 500,
        rebalanceTimeout: 3000,
        maxWaitTimeInMs: 100,
      },
    );
    await consumer.start();
    await relay.start();
    return {
      async stop() {
        await relay.stop();
        await consumer.stop();
        await mock.stop();
      },
    };
  },
};

async function transports(): Promise<TransportUnderTest[]> {
  if (kcatInstalled()) return [postgresTransport, kafkaTransport];
  process.stdout.write(
    'kcat not installed: the Kafka transport is not measured (apt-get install kcat)\n',
  );
  return [postgresTransport];
}

async function endToEndRate(
  ds: DataSource,
  transport: TransportUnderTest,
  round: number,
): Promise<number> {
  await reset(ds);
  const running = await transport.start(ds, round);
  // One event through first, so joining a consumer group is not counted as transport time.
  const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
  await ds.transaction((tx) => writer.append(tx, [testEvent('warm-up', 1)]));
  await waitFor(async () => (await countApplied(ds)) >= 1, 60_000, 'the warm-up event');
  const started = process.hrtime.bigint();
  await produce(ds, { transactions: TRANSACTIONS, perTransaction: PER_TRANSACTION, subjects: 97 });
  await waitFor(async () => (await countApplied(ds)) >= EVENTS + 1, 120_000, `${EVENTS} applied`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await running.stop();
  const summary = await summariseApplied(ds);
  if (
    summary.total !== EVENTS + 1 ||
    summary.distinct !== EVENTS + 1 ||
    summary.outOfOrder.length > 0
  ) {
    throw new Error(`${transport.name} delivered wrongly: ${JSON.stringify(summary)}`);
  }
  return EVENTS / seconds;
}

async function plainInsertRate(ds: DataSource): Promise<number> {
  await ds.query(`DROP TABLE IF EXISTS public.plain_insert`);
  await ds.query(
    `CREATE TABLE public.plain_insert (LIKE ${PRODUCER_SCHEMA}.outbox INCLUDING DEFAULTS)`,
  );
  const started = process.hrtime.bigint();
  let n = 0;
  for (let t = 0; t < TRANSACTIONS; t++) {
    const events = Array.from({ length: PER_TRANSACTION }, () =>
      testEvent(`subject-${n % 97}`, ++n),
    );
    await ds.transaction((tx) =>
      tx.query(
        `INSERT INTO public.plain_insert (global_position, event_id, topic, type, stream_id, stream_version, partition_key, envelope)
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::jsonb[])`,
        [
          events.map((e) => e.streamVersion),
          events.map(() => crypto.randomUUID()),
          events.map(() => TOPIC),
          events.map((e) => e.type),
          events.map((e) => e.streamId),
          events.map((e) => e.streamVersion),
          events.map((e) => e.streamId),
          events.map((e) => JSON.stringify(e)),
        ],
      ),
    );
  }
  return EVENTS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function reset(ds: DataSource): Promise<void> {
  await ds.query(
    `TRUNCATE ${PRODUCER_SCHEMA}.outbox, ${CONSUMER_SCHEMA}.applied, ${CONSUMER_SCHEMA}.inbox, ${CONSUMER_SCHEMA}.consumer_checkpoints`,
  );
}

async function repeat(run: () => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await run());
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function line(label: string, rate: number, baseline: number): void {
  process.stdout.write(
    `${label.padEnd(58)} ${Math.round(rate).toString().padStart(8)} events/s   ratio to baseline ${(rate / baseline).toFixed(2)}\n`,
  );
}
