import { Kafka, logLevel, type LogEntry } from 'kafkajs';
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
