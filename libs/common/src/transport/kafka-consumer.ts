import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import { backoffDelay, Sleeper } from './backoff';
import { ClusterWatch } from './kafka-client';
import { unprocessed, type EventConsumer, type Subscription } from './event-consumer';
import { isWatermark, oldestWatermark, readWatermark } from './watermark';

export interface KafkaConsumerOptions {
  kafka: Kafka;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  rebalanceTimeout?: number;
  maxWaitTimeInMs?: number;
  logger?: Logger;
  /** How often the consumer asks which cluster it reads (see `positionFromOtherCluster`). */
  clusterCheckIntervalMs?: number;
}

/**
 * A Kafka consumer group member. Each batch is applied with the inbox in one transaction of
 * the consumer's own, and its offset committed only after that transaction commits.
 *
 * A handler that asks to know how current it is (`caughtUp`) hears it from the relay's
 * watermarks alone: each partition's newest applied watermark is kept in the consumer's schema
 * (`kafka_partitions`, so every member of the group sees the others'), and the handler is told
 * the oldest of them once every partition has one. Reaching the end of a partition proves
 * nothing: the producer's outbox may hold committed events its relay has not sent, or the relay
 * may have stopped.
 */
export class KafkaConsumer implements EventConsumer {
  private consumer: Consumer | null = null;
  private healthy = true;
  private running = false;
  private restarting: Promise<void> = Promise.resolve();
  private readonly sleeper = new Sleeper();
  private readonly cluster: ClusterWatch;
  /** For each partition read, the cluster its position was taken in. */
  private readonly positionCluster = new Map<number, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly subscription: Subscription,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.cluster = new ClusterWatch(options.kafka, options.clusterCheckIntervalMs ?? 1000);
  }

  /** Joins the group; when Kafka cannot be reached yet, keeps trying in the background. */
  async start(): Promise<void> {
    this.running = true;
    try {
      await this.connectAndRun();
    } catch (error) {
      this.healthy = false;
      this.options.logger?.warn(
        { err: error, group: this.subscription.group },
        'kafka unreachable at start; retrying',
      );
      const failed = this.consumer;
      if (failed) this.restarting = this.rejoin(failed);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.restarting;
    await this.consumer?.disconnect();
    this.consumer = null;
    await this.cluster.disconnect();
  }

  private async connectAndRun(): Promise<void> {
    const { group, topic } = this.subscription;
    const consumer = this.options.kafka.consumer({
      groupId: group,
      sessionTimeout: this.options.sessionTimeout ?? 30_000,
      heartbeatInterval: this.options.heartbeatInterval ?? 3_000,
      rebalanceTimeout: this.options.rebalanceTimeout ?? 60_000,
      maxWaitTimeInMs: this.options.maxWaitTimeInMs ?? 500,
      allowAutoTopicCreation: true,
      retry: {
        retries: 5,
        initialRetryTime: 200,
        maxRetryTime: 5000,
        restartOnFailure: async () => true,
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.healthy = false;
      this.options.logger?.warn(
        { err: payload.error, group, restart: payload.restart },
        'kafka consumer crashed',
      );
      // kafkajs gives up on errors it deems non-retriable (e.g. the coordinator forgot this
      // member after an outage); a consumer that stops silently would lose nothing but deliver
      // nothing either, so this one rejoins with a new member.
      if (!payload.restart && this.running) this.restarting = this.rejoin(consumer);
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.healthy = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.applyBatch(payload),
    });
  }

  private async rejoin(crashed: Consumer): Promise<void> {
    let attempt = 0;
    await crashed.disconnect().catch(() => undefined);
    while (this.running) {
      await this.sleeper.sleep(backoffDelay(attempt++, 200, 10_000));
      if (!this.running) return;
      try {
        await this.connectAndRun();
        return;
      } catch (error) {
        this.options.logger?.warn(
          { err: error, group: this.subscription.group },
          'kafka consumer could not rejoin; retrying',
        );
        await this.consumer?.disconnect().catch(() => undefined);
      }
    }
  }

  isHealthy(): boolean {
    return this.healthy;
  }

  private async applyBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    if (await this.positionFromOtherCluster(batch.topic, batch.partition)) return;
    const { handler, group, schema } = this.subscription;
    const envelopes = batch.messages
      .filter((m) => m.value !== null && !isWatermark(m))
      .map((m) => JSON.parse((m.value as Buffer).toString('utf8')) as EventEnvelope)
      .filter((e) => !handler.select || handler.select.matches(e));
    // Everything before the batch's last watermark on this partition is applied with it.
    const watermark = handler.caughtUp
      ? batch.messages
          .filter(isWatermark)
          .map(readWatermark)
          .reduce<ReturnType<typeof readWatermark>>((newest, w) => w ?? newest, null)
      : null;
    if (envelopes.length > 0 || watermark) {
      await this.dataSource.transaction(async (tx) => {
        if (envelopes.length > 0) {
          const fresh = await unprocessed(tx, this.subscription, envelopes);
          if (fresh.length > 0) await handler.handle(fresh, tx);
        }
        if (watermark) {
          await tx.query(
            `INSERT INTO "${schema}".kafka_partitions AS k
               (consumer_group, topic, partition, partitions, watermark_as_of)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (consumer_group, topic, partition) DO UPDATE
               SET partitions = GREATEST(k.partitions, EXCLUDED.partitions),
                   watermark_as_of = GREATEST(k.watermark_as_of, EXCLUDED.watermark_as_of),
                   updated_at = now()`,
            [group, batch.topic, batch.partition, watermark.partitions, watermark.asOf],
          );
        }
      });
    }
    // Only now, with the effects committed, may Kafka forget these messages for this group.
    const last = batch.messages[batch.messages.length - 1].offset;
    resolveOffset(last);
    await this.consumer?.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    this.healthy = true;
    if (watermark) await this.reportCaughtUp();
    await heartbeat();
  }

  /**
   * Offsets mean nothing across clusters. When the cluster behind the brokers is replaced by an
   * empty one, its relays publish their retained outboxes again, and a consumer that went on
   * from its old position would pass over whatever the new cluster holds below it (the old
   * cluster's offsets were also counted over messages the new one never got: watermarks,
   * retried sends). So a partition whose position was taken in another cluster is read again
   * from its start, and the inbox passes over what was applied before. The group's cluster per
   * partition is kept in `kafka_partitions`, so a consumer started after the replacement, whose
   * group may have committed old positions to the new cluster, notices too. The cluster is asked
   * at most every `clusterCheckIntervalMs`: a batch or two may be applied from the old position
   * first, and nothing is lost by that, since the partition is then read again.
   */
  private async positionFromOtherCluster(topic: string, partition: number): Promise<boolean> {
    const cluster = await this.cluster.clusterId();
    let readIn = this.positionCluster.get(partition);
    if (readIn === cluster) return false;
    const { group, schema } = this.subscription;
    if (readIn === undefined) {
      const stored: { cluster_id: string | null }[] = await this.dataSource.query(
        `SELECT cluster_id FROM "${schema}".kafka_partitions
          WHERE consumer_group = $1 AND topic = $2 AND partition = $3`,
        [group, topic, partition],
      );
      readIn = stored[0]?.cluster_id ?? undefined;
      if (readIn === cluster) {
        this.positionCluster.set(partition, cluster);
        return false;
      }
    }
    const replaced = readIn !== undefined && readIn !== cluster;
    // In this order, so that a crash at any step leaves the partition to be read again.
    if (replaced) await this.consumer?.commitOffsets([{ topic, partition, offset: '0' }]);
    await this.dataSource.query(
      `INSERT INTO "${schema}".kafka_partitions AS k (consumer_group, topic, partition, cluster_id)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
         SET cluster_id = EXCLUDED.cluster_id, updated_at = now()`,
      [group, topic, partition, cluster],
    );
    this.positionCluster.set(partition, cluster);
    if (replaced) {
      this.consumer?.seek({ topic, partition, offset: '-2' });
      this.options.logger?.warn(
        { group, topic, partition, from: readIn, to: cluster },
        'kafka cluster changed under the consumer; reading the partition again from its start',
      );
    }
    return replaced;
  }

  /** Tells the handler the oldest of the partitions' watermarks, once every partition has one. */
  private async reportCaughtUp(): Promise<void> {
    const { handler, group, schema, topic } = this.subscription;
    try {
      const rows: { partition: number; partitions: number; as_of: Date }[] =
        await this.dataSource.query(
          `SELECT partition, partitions, watermark_as_of AS as_of FROM "${schema}".kafka_partitions
            WHERE consumer_group = $1 AND topic = $2 AND watermark_as_of IS NOT NULL`,
          [group, topic],
        );
      const asOf = oldestWatermark(rows);
      if (asOf) await handler.caughtUp?.(asOf);
    } catch (error) {
      this.options.logger?.warn({ err: error, group }, 'caughtUp failed');
    }
  }
}
