import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import { PollingLoop } from './backoff';
import { ClusterWatch } from './kafka-client';
import { WATERMARK_EVENT_TYPE, type Watermark } from './watermark';

export interface KafkaRelayOptions {
  schema: string;
  kafka: Kafka;
  /** Kafka's idempotent producer; off only where the broker cannot serve it (the test mock). */
  idempotent?: boolean;
  batchSize?: number;
  pollIntervalMs?: number;
  logger?: Logger;
  onPublished?: (topic: string, count: number) => void;
  /** How often the relay asks which cluster it is talking to (see `checkCluster`). */
  clusterCheckIntervalMs?: number;
  /** The topics this outbox alone feeds, which get watermarks (see `publishWatermarks`). */
  watermarkTopics?: readonly string[];
  /** How often watermarks go out; 0 sends none. */
  watermarkIntervalMs?: number;
}

/** How long a topic's partition count is trusted before it is asked again. */
const PARTITION_COUNT_TTL_MS = 30_000;

interface OutboxRow {
  global_position: string;
  topic: string;
  partition_key: string;
  envelope: EventEnvelope;
}

/**
 * Publishes a service's outbox to Kafka in outbox order, keyed by subject, and marks rows sent.
 * At-least-once: a crash between the send and the commit re-sends, and consumers de-duplicate.
 */
export class KafkaRelay {
  private readonly producer: Producer;
  private readonly batchSize: number;
  private readonly loop: PollingLoop;
  private connected = false;
  private readonly cluster: ClusterWatch;
  /** The id of the cluster this relay last published to, once known. */
  private clusterId: string | null = null;
  private watermarkSentAt = 0;
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: KafkaRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.cluster = new ClusterWatch(options.kafka, options.clusterCheckIntervalMs ?? 1000);
    this.loop = new PollingLoop(() => this.publishOnce(), {
      batchSize: this.batchSize,
      idleMs: options.pollIntervalMs ?? 50,
      backoffBaseMs: 200,
      backoffCapMs: 10_000,
      onError: (error, retryInMs) =>
        options.logger?.warn(
          { err: error, schema: options.schema, retryInMs },
          'outbox relay could not publish; the events stay in the outbox and will be retried',
        ),
    });
    const idempotent = options.idempotent ?? true;
    // One request in flight keeps each partition in outbox order across retries.
    this.producer = options.kafka.producer({
      idempotent,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      // The murmur2 partitioner of the Java client: a subject lands on the same partition
      // whichever client produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
    await this.cluster.disconnect();
  }

  isHealthy(): boolean {
    return this.loop.isHealthy();
  }

  /** Publishes at most one batch; returns how many rows were published. */
  async publishOnce(): Promise<number> {
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.checkCluster();
      return await this.dataSource.transaction((tx) => this.publishBatch(tx));
    } catch (error) {
      // Start the next attempt from a fresh connection and a fresh look at the cluster: after
      // the brokers were replaced the producer's metadata names brokers that no longer exist.
      this.cluster.forget();
      this.partitionCounts.clear();
      if (this.connected) await this.producer.disconnect().catch(() => undefined);
      this.connected = false;
      throw error;
    }
  }

  /**
   * Rows marked sent are in Kafka only as long as the cluster keeps them. A cluster rebuilt
   * empty (a new cluster id behind the same bootstrap addresses) has lost whatever consumers had
   * not read yet, so the whole retained outbox is published again; consumers de-duplicate
   * through their inboxes. The id last published to is kept in the outbox's schema
   * (`kafka_relay`), so a relay started after the cluster was replaced notices as well.
   */
  private async checkCluster(): Promise<void> {
    const clusterId = await this.cluster.clusterId();
    if (clusterId !== this.clusterId) {
      const { schema } = this.options;
      const { previous, republished } = await this.dataSource.transaction(async (tx) => {
        // The relay's lock, so no batch is between its send and its mark while rows reset.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('outbox-relay:' || $1))`, [schema]);
        const stored: { cluster_id: string }[] = await tx.query(
          `SELECT cluster_id FROM "${schema}".kafka_relay FOR UPDATE`,
        );
        const before = stored[0]?.cluster_id ?? null;
        let count = 0;
        if (before !== null && before !== clusterId) {
          [, count] = (await tx.query(
            `UPDATE "${schema}".outbox SET published_at = NULL WHERE published_at IS NOT NULL`,
          )) as [unknown, number];
        }
        await tx.query(
          `INSERT INTO "${schema}".kafka_relay (cluster_id) VALUES ($1)
           ON CONFLICT (id) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, updated_at = now()`,
          [clusterId],
        );
        return { previous: before, republished: count };
      });
      if (previous !== null && previous !== clusterId) {
        this.options.logger?.warn(
          { schema, from: previous, to: clusterId, republished },
          'kafka cluster replaced; publishing the retained outbox again',
        );
      }
      this.partitionCounts.clear();
    }
    this.clusterId = clusterId;
  }

  private async publishBatch(tx: EntityManager): Promise<number> {
    const { schema } = this.options;
    // One relay per outbox at a time, across replicas, so Kafka receives rows in outbox order.
    const [{ locked }] = await tx.query(
      `SELECT pg_try_advisory_xact_lock(hashtext('outbox-relay:' || $1)) AS locked`,
      [schema],
    );
    if (!locked) return 0;
    // Asked before the rows are read: every row committed before this moment is then either
    // published already, among the rows read next, or held back behind a running transaction.
    const watermark = this.watermarkDue() ? await this.watermarkCandidate(tx) : null;
    const rows: OutboxRow[] = await tx.query(
      `SELECT o.global_position::text AS global_position, o.topic, o.partition_key, o.envelope
         FROM "${schema}".outbox o
        WHERE o.published_at IS NULL
          AND o.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY o.transaction_id, o.global_position
        LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length > 0) await this.publishRows(tx, rows);
    if (watermark && rows.length < this.batchSize) await this.publishWatermarks(watermark);
    return rows.length;
  }

  private async publishRows(tx: EntityManager, rows: OutboxRow[]): Promise<void> {
    const { schema } = this.options;
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const messages = byTopic.get(row.topic) ?? [];
      messages.push({
        key: row.partition_key,
        value: JSON.stringify(row.envelope),
        headers: { 'event-id': row.envelope.id, 'event-type': row.envelope.type },
      });
      byTopic.set(row.topic, messages);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    await tx.query(
      `UPDATE "${schema}".outbox SET published_at = now() WHERE global_position = ANY($1::bigint[])`,
      [rows.map((r) => r.global_position)],
    );
    for (const [topic, messages] of byTopic) this.options.onPublished?.(topic, messages.length);
  }

  private watermarkDue(): boolean {
    const interval = this.options.watermarkIntervalMs ?? 1000;
    const topics = this.options.watermarkTopics ?? [];
    return interval > 0 && topics.length > 0 && Date.now() - this.watermarkSentAt >= interval;
  }

  /**
   * The moment this relay can vouch for: its statement time, unless a row committed by then is
   * held back behind an older transaction still running (then no moment yet, until it ends).
   */
  private async watermarkCandidate(tx: EntityManager): Promise<Date | null> {
    const [{ as_of, held_back }]: { as_of: Date; held_back: boolean }[] = await tx.query(
      `SELECT statement_timestamp() AS as_of,
              EXISTS (SELECT 1 FROM "${this.options.schema}".outbox o
                       WHERE o.published_at IS NULL
                         AND o.transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS held_back`,
    );
    return held_back ? null : as_of;
  }

  /**
   * Tells every partition of each of the outbox's topics that every event this outbox
   * committed before `asOf` has been sent. Sent after the rows, by the one relay holding the
   * outbox's lock, so on each partition it follows every event it vouches for: a consumer that
   * has applied a partition up to a watermark has applied everything before it there. An empty
   * fetch cannot say as much, since it knows nothing of what waits in the outbox.
   */
  private async publishWatermarks(asOf: Date): Promise<void> {
    for (const topic of this.options.watermarkTopics ?? []) {
      const partitions = await this.partitionCount(topic);
      const value = (count: number | null) =>
        JSON.stringify({ asOf: asOf.toISOString(), partitions: count } satisfies Watermark);
      const headers = { 'event-type': WATERMARK_EVENT_TYPE };
      await this.producer.send({
        topic,
        acks: -1,
        // A topic not created yet is created by this first send where the cluster allows it;
        // its watermark counts for nothing and the next one reaches every partition.
        messages:
          partitions === null
            ? [{ value: value(null), headers }]
            : Array.from({ length: partitions }, (_, partition) => ({
                partition,
                value: value(partitions),
                headers,
              })),
      });
    }
    this.watermarkSentAt = Date.now();
  }

  private async partitionCount(topic: string): Promise<number | null> {
    const known = this.partitionCounts.get(topic);
    if (known && Date.now() - known.at < PARTITION_COUNT_TTL_MS) return known.count;
    const admin = await this.cluster.connectedAdmin();
    // A topic that does not exist yet fails here; the send that follows creates it or fails
    // in turn, and so shows a cluster that cannot be reached.
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
    const count = metadata?.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (count === 0) return null;
    this.partitionCounts.set(topic, { count, at: Date.now() });
    return count;
  }
}
