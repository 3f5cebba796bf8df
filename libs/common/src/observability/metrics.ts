import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per service process, with the metrics every service shares. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly eventsConsumed: Counter<'group' | 'topic'>;
  readonly eventsPublished: Counter<'topic'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route pattern (never the raw URL, which can hold an NHS number)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.eventsConsumed = new Counter({
      name: 'events_consumed_total',
      help: 'Events applied by a consumer group (after inbox de-duplication)',
      labelNames: ['group', 'topic'],
      registers: [this.registry],
    });
    this.eventsPublished = new Counter({
      name: 'outbox_events_published_total',
      help: 'Outbox events the Kafka relay has published',
      labelNames: ['topic'],
      registers: [this.registry],
    });
  }
}
