import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { ServiceMetrics } from '#common';

/**
 * What an operator watches on the gateway: answers given, how reads and commits are batched,
 * replica freshness.
 */
@Injectable()
export class GatewayMetrics {
  readonly decisions: Counter<'outcome' | 'channel' | 'break_glass'>;
  readonly commitBatch: Histogram<string>;
  readonly factsBatch: Histogram<string>;
  readonly replicaAge: Gauge<string>;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.decisions = new Counter({
      name: 'gateway_decisions_total',
      help: 'Decisions committed, by outcome, route and whether the safeguarding override was used',
      labelNames: ['outcome', 'channel', 'break_glass'],
      registers,
    });
    this.commitBatch = new Histogram({
      name: 'gateway_decision_commit_batch_size',
      help: 'Decisions written per group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.factsBatch = new Histogram({
      name: 'gateway_facts_read_batch_size',
      help: 'Decisions whose facts were read together in one statement',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.replicaAge = new Gauge({
      name: 'gateway_consent_replica_age_seconds',
      help: 'Time since the consent replica last confirmed it was caught up, as seen by the last decision',
      registers,
    });
  }
}
