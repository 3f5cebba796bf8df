import type { ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  createKafkaClient,
  createLogger,
  KafkaConsumer,
  KafkaRelay,
  OutboxWriter,
  type EventHandler,
} from '#common';
import { killAndWait, startScript } from '../support/child-process';
import { describeKafka, startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { createTestDatabase } from '../support/test-database';
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
} from '../support/transport-harness';

jest.setTimeout(180_000);

// The mock cluster waits a session timeout on each join and leave; keep them short.
const FAST_GROUP = {
  sessionTimeout: 3000,
  heartbeatInterval: 500,
  rebalanceTimeout: 3000,
  maxWaitTimeInMs: 100,
};

describeKafka('Kafka transport (librdkafka mock cluster)', () => {
  let mock: KafkaMock;
  let kafka: Kafka;
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  const running: { stop(): Promise<void> }[] = [];

  /** A new, empty mock cluster, and a client for it. */
  async function startCluster(): Promise<void> {
    mock = await startKafkaMock();
    kafka = createKafkaClient({
      brokers: mock.brokers,
      clientId: 'transport-test',
      requestTimeoutMs: 3000,
      logger: createLogger('kafka-test', 'silent'),
    });
  }

  beforeEach(async () => {
    await startCluster();
    db = await createTestDatabase('kafkatransport');
    ds = await prepareTransportDatabase(db.url);
  });

  afterEach(async () => {
    mock.resume();
    await Promise.all(running.splice(0).map((r) => r.stop()));
    await ds.destroy();
    await db.drop();
    await mock.stop();
  });

  // Watermarks go out on every test's topic, so each test also shows that no handler sees one.
  async function relay(): Promise<KafkaRelay> {
    const r = new KafkaRelay(ds, {
      schema: PRODUCER_SCHEMA,
      kafka,
      idempotent: false,
      pollIntervalMs: 20,
      watermarkTopics: [TOPIC],
      watermarkIntervalMs: 100,
    });
    await r.start();
    running.push(r);
    return r;
  }

  async function consumer(
    group: string,
    handler: EventHandler = recordingHandler(),
  ): Promise<KafkaConsumer> {
    const c = new KafkaConsumer(
      ds,
      { group, topic: TOPIC, schema: CONSUMER_SCHEMA, handler },
      { kafka, ...FAST_GROUP },
    );
    await c.start();
    running.push(c);
    return c;
  }

  async function unpublished(): Promise<number> {
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM ${PRODUCER_SCHEMA}.outbox WHERE published_at IS NULL`,
    );
    return n;
  }

  it('delivers 10,000 events from 200 transactions exactly once, in per-subject order', async () => {
    await relay();
    await consumer('audit.ingest');
    expect(await produce(ds, { transactions: 200, perTransaction: 50, subjects: 97 })).toBe(10_000);
    await waitFor(async () => (await countApplied(ds)) >= 10_000, 120_000, '10,000 applied');
    await waitFor(async () => (await unpublished()) === 0, 10_000, 'outbox marked published');
    expect(await summariseApplied(ds)).toEqual({ total: 10_000, distinct: 10_000, outOfOrder: [] });
  });

  it('publishes nothing from a producer transaction that rolled back', async () => {
    const writer = new OutboxWriter(PRODUCER_SCHEMA, TOPIC);
    await expect(
      ds.transaction(async (tx) => {
        await writer.append(tx, [testEvent('rolled-back', 1)]);
        throw new Error('rule broken after the event was written');
      }),
    ).rejects.toThrow('rule broken');
    await ds.transaction((tx) => writer.append(tx, [testEvent('committed', 1)]));
    await relay();
    await consumer('audit.rollback');
    await waitFor(async () => (await countApplied(ds)) >= 1, 30_000, 'the committed event');
    await new Promise((r) => setTimeout(r, 500));
    const subjects: { subject: string }[] = await ds.query(
      `SELECT subject FROM ${CONSUMER_SCHEMA}.applied`,
    );
    expect(subjects.map((s) => s.subject)).toEqual(['committed']);
  });

  it('loses nothing and applies nothing twice when the consumer process is SIGKILLed', async () => {
    await produce(ds, { transactions: 200, perTransaction: 50, subjects: 50 });
    const r = await relay();
    await waitFor(async () => (await unpublished()) === 0, 60_000, 'all published');
    expect(r.isHealthy()).toBe(true);
    const env = {
      DATABASE_URL: db.url,
      TRANSPORT: 'kafka',
      KAFKA_BROKERS: mock.brokers.join(','),
      CONSUMER_GROUP: 'audit.killed',
      APPLY_DELAY_MS: '20',
    };
    let child: ChildProcess = await startScript('test/fixtures/consumer-process.js', env, 'ready');
    await waitFor(async () => (await countApplied(ds)) >= 500, 60_000, 'some events applied');
    await killAndWait(child, 'SIGKILL');
    const atKill = await countApplied(ds);
    expect(atKill).toBeLessThan(10_000);
    child = await startScript('test/fixtures/consumer-process.js', env, 'ready');
    try {
      await waitFor(async () => (await countApplied(ds)) >= 10_000, 120_000, 'all events applied');
      // Redelivery after the kill must not apply anything twice (give it a moment to try).
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await killAndWait(child, 'SIGTERM');
    }
    expect(await summariseApplied(ds)).toEqual({ total: 10_000, distinct: 10_000, outOfOrder: [] });
  });

  it('commits the producer’s writes while Kafka is unreachable and delivers them once it is back', async () => {
    const r = await relay();
    await consumer('audit.outage');
    await produce(ds, { transactions: 2, perTransaction: 10, subjects: 5, prefix: 'before-' });
    await waitFor(async () => (await countApplied(ds)) >= 20, 30_000, 'events before the outage');

    mock.pause();
    const written = await produce(ds, {
      transactions: 10,
      perTransaction: 10,
      subjects: 5,
      prefix: 'during-',
    });
    expect(written).toBe(100); // the producer's transactions committed regardless of Kafka
    await waitFor(async () => !r.isHealthy(), 30_000, 'the relay to notice the outage');
    expect(await unpublished()).toBe(100);
    expect(await countApplied(ds)).toBe(20);

    mock.resume();
    await waitFor(async () => (await countApplied(ds)) >= 120, 90_000, 'events after the outage');
    await waitFor(async () => r.isHealthy(), 10_000, 'the relay to recover');
    expect(await unpublished()).toBe(0);
    expect(await summariseApplied(ds)).toEqual({ total: 120, distinct: 120, outOfOrder: [] });
  });

  it('re-publishes after a relay crash between send and commit, and the consumer applies once', async () => {
    await produce(ds, { transactions: 5, perTransaction: 20, subjects: 10 });
    const first = await relay();
    await waitFor(async () => (await unpublished()) === 0, 30_000, 'first publication');
    await first.stop();
    // As if the relay had died after Kafka acknowledged but before its commit: all rows resent.
    await ds.query(`UPDATE ${PRODUCER_SCHEMA}.outbox SET published_at = NULL`);
    await relay();
    await waitFor(async () => (await unpublished()) === 0, 30_000, 'second publication');
    await consumer('audit.resent');
    await waitFor(async () => (await countApplied(ds)) >= 100, 60_000, 'events applied');
    await new Promise((r) => setTimeout(r, 1500)); // the duplicates arrive too; let them be refused
    expect(await summariseApplied(ds)).toEqual({ total: 100, distinct: 100, outOfOrder: [] });
    const [{ inbox }] = await ds.query(
      `SELECT count(*)::int AS inbox FROM ${CONSUMER_SCHEMA}.inbox`,
    );
    expect(inbox).toBe(100);
  });

  it('is caught up only as far as the relay vouches: not past an event held back, nor once the relay stops', async () => {
    const r = await relay();
    // What the consumer says of its freshness; a call without a moment would mean "now".
    const told: (Date | undefined)[] = [];
    await consumer('gateway.replica', {
      ...recordingHandler(),
      caughtUp: async (asOf) => void told.push(asOf),
    });
    const newest = () => Math.max(0, ...told.map((asOf) => asOf?.getTime() ?? Infinity));
    const dbNow = async () =>
      ((await ds.query(`SELECT clock_timestamp() AS now`)) as { now: Date }[])[0].now.getTime();
    const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

    const start = await dbNow();
    await waitFor(async () => newest() >= start, 30_000, 'a watermark on every partition');
    expect(told.every((asOf) => asOf instanceof Date)).toBe(true);

    // A transaction that began earlier and still runs holds back an event committed after it.
    const older = ds.createQueryRunner();
    await older.connect();
    await older.startTransaction();
    await older.query(`SELECT pg_current_xact_id()`);
    await produce(ds, { transactions: 1, perTransaction: 1, subjects: 1, prefix: 'held-' });
    const heldCommitted = await dbNow();
    await settle();
    expect(await countApplied(ds)).toBe(0);
    expect(newest()).toBeLessThan(heldCommitted);
    await older.commitTransaction();
    await older.release();
    await waitFor(
      async () => (await countApplied(ds)) === 1 && newest() >= heldCommitted,
      30_000,
      'the held-back event, then a watermark after it',
    );

    // A relay that stops vouches for nothing after its last watermark.
    await r.stop();
    const stopped = await dbNow();
    await produce(ds, { transactions: 1, perTransaction: 1, subjects: 1, prefix: 'unsent-' });
    await settle();
    expect(await countApplied(ds)).toBe(1);
    expect(newest()).toBeLessThan(stopped);
    const [{ partitions }]: { partitions: number }[] = await ds.query(
      `SELECT count(*)::int AS partitions FROM ${CONSUMER_SCHEMA}.kafka_partitions
        WHERE consumer_group = 'gateway.replica' AND topic = $1 AND watermark_as_of IS NOT NULL`,
      [TOPIC],
    );
    expect(partitions).toBe(4);
  });

  it('a relay and a consumer started after the cluster was replaced notice it from what they stored', async () => {
    const firstRelay = await relay();
    const first = await consumer('audit.restarted');
    await produce(ds, { transactions: 2, perTransaction: 10, subjects: 5, prefix: 'read-' });
    await waitFor(async () => (await countApplied(ds)) >= 20, 30_000, 'the first events');
    // The consumer stops; ten more events reach the old cluster and die with it, unread.
    await first.stop();
    await produce(ds, { transactions: 1, perTransaction: 10, subjects: 5, prefix: 'unread-' });
    await waitFor(async () => (await unpublished()) === 0, 30_000, 'all handed to the old cluster');
    await firstRelay.stop();
    const clusterOf = async (table: string, schema: string) =>
      (
        (await ds.query(`SELECT DISTINCT cluster_id FROM ${schema}.${table}`)) as {
          cluster_id: string;
        }[]
      ).map((r) => r.cluster_id);
    const [oldCluster] = await clusterOf('kafka_relay', PRODUCER_SCHEMA);
    expect(await clusterOf('kafka_partitions', CONSUMER_SCHEMA)).toEqual([oldCluster]);

    await mock.stop();
    await startCluster();
    const [{ replacedAt }]: { replacedAt: Date }[] = await ds.query(
      `SELECT clock_timestamp() AS "replacedAt"`,
    );
    // A relay that starts now knows nothing in memory of the old cluster, only what it stored.
    await relay();
    await waitFor(
      async () => {
        const [{ n }] = await ds.query(
          `SELECT count(*)::int AS n FROM ${PRODUCER_SCHEMA}.outbox WHERE published_at > $1`,
          [replacedAt],
        );
        return n === 30;
      },
      30_000,
      'the retained outbox published again to the new cluster',
    );
    const [newCluster] = await clusterOf('kafka_relay', PRODUCER_SCHEMA);
    expect(newCluster).not.toBe(oldCluster);

    // As if a member of the group that did not notice had read on in the new cluster and
    // committed: a consumer that trusted those positions would pass over the ten unread events.
    const stale = kafka.consumer({ groupId: 'audit.restarted', ...FAST_GROUP });
    const admin = kafka.admin();
    try {
      await stale.connect();
      await stale.subscribe({ topic: TOPIC, fromBeginning: true });
      // Reads and commits every position, applies nothing.
      await stale.run({ eachBatch: async () => undefined });
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(TOPIC);
      await waitFor(
        async () => {
          const [committed] = await admin.fetchOffsets({
            groupId: 'audit.restarted',
            topics: [TOPIC],
          });
          return ends.every(
            (end) =>
              Number(committed.partitions.find((p) => p.partition === end.partition)?.offset) >=
              Number(end.high),
          );
        },
        30_000,
        'the old positions committed to the new cluster',
      );
    } finally {
      await stale.disconnect();
      await admin.disconnect();
    }
    await consumer('audit.restarted');
    await waitFor(async () => (await countApplied(ds)) >= 30, 30_000, 'the unread events');
    await waitFor(
      async () => (await clusterOf('kafka_partitions', CONSUMER_SCHEMA)).join() === newCluster,
      30_000,
      'every partition recorded as read in the new cluster',
    );
    expect(await summariseApplied(ds)).toEqual({ total: 30, distinct: 30, outOfOrder: [] });
  });
});
