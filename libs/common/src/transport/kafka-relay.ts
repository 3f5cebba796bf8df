import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import { PollingLoop } from './backoff';

export interface KafkaRelayOptions {
  schema: string;
  kafka: Kafka;
  /** Kafka's idempotent producer; off only where the broker cannot serve it (the test mock). */
  idempotent?: boolean;
  batchSize?: number;
  pollIntervalMs?: number;
  logger?: Logger;
  onPublished?: (topic: string, count: number) => void;
}

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

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: KafkaRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
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
  }

  isHealthy(): boolean {
    return this.loop.isHealthy();
  }

  /** Publishes at most one batch; returns how many rows were published. */
  async publishOnce(): Promise<number> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    return this.dataSource.transaction((tx) => this.publishBatch(tx));
  }

  private async publishBatch(tx: EntityManager): Promise<number> {
    const { schema } = this.options;
    // One relay per outbox at a time, across replicas, so Kafka receives rows in outbox order.
    const [{ locked }] = await tx.query(
      `SELECT pg_try_advisory_xact_lock(hashtext('outbox-relay:' || $1)) AS locked`,
      [schema],
    );
    if (!locked) return 0;
    const rows: OutboxRow[] = await tx.query(
      `SELECT o.global_position::text AS global_position, o.topic, o.partition_key, o.envelope
         FROM "${schema}".outbox o
        WHERE o.published_at IS NULL
          AND o.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY o.transaction_id, o.global_position
        LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
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
    return rows.length;
  }
}
