import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import type { Topic } from '../contracts/topics';
import { type CommonEnv, kafkaBrokers } from '../config/common-env';
import type { FieldProblem } from '../http/domain-error';
import { ServiceMetrics } from '../observability/metrics';
import type { EventConsumer, EventHandler, Subscription } from '../transport/event-consumer';
import { createKafkaClient } from '../transport/kafka-client';
import { KafkaConsumer } from '../transport/kafka-consumer';
import { KafkaRelay } from '../transport/kafka-relay';
import { PostgresConsumer } from '../transport/postgres-consumer';
import {
  SERVICE_CONFIG,
  SERVICE_DEFINITION,
  SERVICE_LOGGER,
  type ServiceDefinition,
} from './service-definition';

/** A running piece of the transport that can report whether it reaches its broker. */
interface TransportPart {
  start(): Promise<void>;
  stop(): Promise<void>;
  isHealthy(): boolean;
}

/**
 * Runs the service's side of the event transport: consumers for its subscriptions and, on
 * Kafka, the relay that publishes its outbox. Consumers stop before the database pool closes.
 */
@Injectable()
export class TransportService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];
  private readonly parts: TransportPart[] = [];
  private readonly readinessChecks: (() => Promise<FieldProblem | null>)[] = [];
  private started = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: CommonEnv,
    @Inject(SERVICE_DEFINITION) private readonly definition: ServiceDefinition,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  /** Which transport carries events: Kafka when brokers are configured. */
  get kind(): 'kafka' | 'postgres' {
    return kafkaBrokers(this.config).length > 0 ? 'kafka' : 'postgres';
  }

  /** Registers a consumer group; call during module init, before the application starts. */
  subscribe(group: string, topic: Topic, handler: EventHandler): void {
    if (this.started) throw new Error(`subscribe(${group}) after the transport started`);
    const caughtUp = handler.caughtUp?.bind(handler);
    const counted: EventHandler = {
      handle: async (events: readonly EventEnvelope[], tx) => {
        await handler.handle(events, tx);
        this.metrics.eventsConsumed.inc({ group, topic }, events.length);
      },
      ...(caughtUp ? { caughtUp } : {}),
      ...(handler.select ? { select: handler.select } : {}),
      ...(handler.deduplicates ? { deduplicates: true } : {}),
    };
    this.subscriptions.push({ group, topic, schema: this.definition.schema, handler: counted });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    if (this.kind === 'kafka') this.parts.push(this.relay());
    for (const subscription of this.subscriptions) this.parts.push(this.consumerFor(subscription));
    for (const part of this.parts) await part.start();
    this.logger.info(
      { transport: this.kind, groups: this.subscriptions.map((s) => s.group) },
      'event transport started',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.stop()));
    await this.admin?.disconnect().catch(() => undefined);
  }

  /**
   * Adds a service's own condition for taking traffic (a replica current enough, say); it is
   * asked only while the database is reachable, and a check that throws counts as not ready.
   */
  addReadinessCheck(check: () => Promise<FieldProblem | null>): void {
    this.readinessChecks.push(check);
  }

  /** What stops the service from being ready: the database, the broker on Kafka, own checks. */
  async readinessProblems(): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), 2000);
      for (const check of this.readinessChecks) {
        const problem = await withTimeout(check(), 2000).catch((error: unknown) => ({
          field: 'service',
          problem: `readiness check failed: ${(error as Error).message}`,
        }));
        if (problem) problems.push(problem);
      }
    } catch (error) {
      problems.push({ field: 'database', problem: `unreachable: ${(error as Error).message}` });
    }
    if (this.parts.some((part) => !part.isHealthy())) {
      problems.push({
        field: 'transport',
        problem: `${this.kind} transport cannot deliver events`,
      });
    } else if (this.kind === 'kafka') {
      try {
        await this.probeKafka();
      } catch (error) {
        problems.push({
          field: 'transport',
          problem: `kafka unreachable: ${(error as Error).message}`,
        });
      }
    }
    return problems;
  }

  private consumerFor(subscription: Subscription): EventConsumer {
    if (this.kind === 'kafka') {
      return new KafkaConsumer(this.dataSource, subscription, {
        kafka: this.kafka(),
        logger: this.logger,
        sessionTimeout: this.config.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval: Math.max(100, Math.floor(this.config.KAFKA_SESSION_TIMEOUT_MS / 10)),
        rebalanceTimeout: this.config.KAFKA_SESSION_TIMEOUT_MS,
        maxWaitTimeInMs: this.config.KAFKA_MAX_WAIT_MS,
      });
    }
    return new PostgresConsumer(this.dataSource, subscription, {
      pollIntervalMs: this.config.TRANSPORT_POLL_INTERVAL_MS,
      logger: this.logger,
    });
  }

  /** On Kafka, the service publishes its own outbox; on PostgreSQL, consumers read it in place. */
  private relay(): KafkaRelay {
    return new KafkaRelay(this.dataSource, {
      schema: this.definition.schema,
      kafka: this.kafka(),
      idempotent: this.config.KAFKA_IDEMPOTENT,
      pollIntervalMs: this.config.TRANSPORT_POLL_INTERVAL_MS,
      watermarkTopics: [this.definition.topic],
      watermarkIntervalMs: this.config.KAFKA_WATERMARK_INTERVAL_MS,
      logger: this.logger,
      onPublished: (topic, count) => this.metrics.eventsPublished.inc({ topic }, count),
    });
  }

  private kafkaClient: Kafka | null = null;
  private admin: Admin | null = null;

  /** An idle relay would not notice a broker outage; readiness asks the cluster directly. */
  private async probeKafka(): Promise<void> {
    const admin = (this.admin ??= this.kafka().admin());
    await withTimeout(
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      2000,
    );
  }

  private kafka(): Kafka {
    this.kafkaClient ??= createKafkaClient({
      brokers: kafkaBrokers(this.config),
      clientId: this.definition.name,
      logger: this.logger,
    });
    return this.kafkaClient;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);
}
