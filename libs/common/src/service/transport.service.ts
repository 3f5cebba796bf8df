import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import type { Topic } from '../contracts/topics';
import { type CommonEnv, kafkaBrokers } from '../config/common-env';
import type { FieldProblem } from '../http/domain-error';
import { ServiceMetrics } from '../observability/metrics';
import type { EventConsumer, EventHandler, Subscription } from '../transport/event-consumer';
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
    const counted: EventHandler = {
      handle: async (events: readonly EventEnvelope[], tx) => {
        await handler.handle(events, tx);
        this.metrics.eventsConsumed.inc({ group, topic }, events.length);
      },
    };
    this.subscriptions.push({ group, topic, schema: this.definition.schema, handler: counted });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    for (const subscription of this.subscriptions) this.parts.push(this.consumerFor(subscription));
    for (const part of this.parts) await part.start();
    this.logger.info(
      { transport: this.kind, groups: this.subscriptions.map((s) => s.group) },
      'event transport started',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.stop()));
  }

  /** What stops the service from being ready: the database, or the broker when on Kafka. */
  async readinessProblems(): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref(),
        ),
      ]);
    } catch (error) {
      problems.push({ field: 'database', problem: `unreachable: ${(error as Error).message}` });
    }
    if (this.parts.some((part) => !part.isHealthy())) {
      problems.push({
        field: 'transport',
        problem: `${this.kind} transport cannot deliver events`,
      });
    }
    return problems;
  }

  private consumerFor(subscription: Subscription): EventConsumer {
    return new PostgresConsumer(this.dataSource, subscription, {
      pollIntervalMs: this.config.TRANSPORT_POLL_INTERVAL_MS,
      logger: this.logger,
    });
  }
}
