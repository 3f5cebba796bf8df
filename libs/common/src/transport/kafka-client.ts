import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

/** Options shared by the relay and the consumers of one process. */
export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** How long one request may wait for a broker before it counts as a failure. */
  requestTimeoutMs?: number;
}

/**
 * A kafkajs client whose own retries are short: an outage shows within seconds and the relay's
 * and consumers' loops do the long-term retrying, with backoff, themselves.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: options.requestTimeoutMs ?? 5000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        if (level <= logLevel.ERROR) options.logger?.error({ kafka: rest }, message);
        else options.logger?.warn({ kafka: rest }, message);
      },
  });
}

/**
 * Which cluster answers behind the brokers, asked at most once per interval through one admin
 * client. Offsets and "sent" marks mean something only in the cluster they were made in, so
 * relays and consumers compare this with the cluster they last used.
 */
export class ClusterWatch {
  private admin: Admin | null = null;
  private id: string | null = null;
  private askedAt = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly intervalMs = 1000,
  ) {}

  /** The cluster's id, asked again once the interval has passed (or after `forget`). */
  async clusterId(): Promise<string> {
    if (this.id === null || Date.now() - this.askedAt >= this.intervalMs) {
      this.id = (await (await this.connectedAdmin()).describeCluster()).clusterId;
      this.askedAt = Date.now();
    }
    return this.id;
  }

  /** Makes the next `clusterId` ask the cluster (after a failure, say). */
  forget(): void {
    this.askedAt = 0;
  }

  /** The watch's admin client, for other metadata questions. */
  async connectedAdmin(): Promise<Admin> {
    const admin = (this.admin ??= this.kafka.admin());
    await admin.connect();
    return admin;
  }

  async disconnect(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
