import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxWriter, SERVICE_LOGGER, type Logger, type NewEvent } from '#common';
import { GatewayMetrics } from './gateway-metrics';

/** One decision to store: its row, its override window if it opened one, and its event. */
export interface DecisionRecord {
  decisionId: string;
  decidedAt: string;
  subjectId: string;
  requesterUserId: string;
  callerUserId: string;
  outcome: string;
  channel: 'decision' | 'record';
  correlationId: string;
  body: unknown;
  window: {
    userId: string;
    subjectId: string;
    statute: string;
    opensAt: string;
    closesAt: string;
  } | null;
  event: NewEvent;
}

interface Pending {
  record: DecisionRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 256;

/**
 * Stores decisions with their events by group commit: requests that arrive while a commit is
 * in flight wait and are written together in the next one, so every decision is durable
 * (synchronous_commit stays on) without paying one commit per request. A caller's promise
 * settles only when its decision is committed, or rejects when the commit failed.
 */
@Injectable()
export class DecisionWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  write(record: DecisionRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.insert(batch.map((p) => p.record));
          this.metrics.commitBatch.observe(batch.length);
          for (const p of batch) p.resolve();
        } catch (error) {
          this.logger.error({ err: error, decisions: batch.length }, 'decision commit failed');
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One statement, so atomic without an explicit transaction: decisions, windows, events. */
  private async insert(records: DecisionRecord[]): Promise<void> {
    const windows = records
      .filter((r) => r.window !== null)
      .map((r) => ({ decision_id: r.decisionId, ...r.window }));
    const params: unknown[] = [
      records.map((r) => r.decisionId),
      records.map((r) => r.decidedAt),
      records.map((r) => r.subjectId),
      records.map((r) => r.requesterUserId),
      records.map((r) => r.callerUserId),
      records.map((r) => r.outcome),
      records.map((r) => r.channel),
      records.map((r) => r.correlationId),
      records.map((r) => JSON.stringify(r.body)),
      JSON.stringify(
        windows.map((w) => ({
          decision_id: w.decision_id,
          user_id: w.userId,
          subject_id: w.subjectId,
          statute: w.statute,
          opens_at: w.opensAt,
          closes_at: w.closesAt,
        })),
      ),
    ];
    const outboxed = this.outbox.statement(
      records.map((r) => r.event),
      params.length + 1,
    );
    await this.dataSource.query(
      `WITH decided AS (
         INSERT INTO gateway.decisions
           (decision_id, decided_at, subject_id, requester_user_id, caller_user_id, outcome,
            channel, correlation_id, body)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::jsonb[])),
       windows AS (
         INSERT INTO gateway.break_glass_windows
           (decision_id, user_id, subject_id, statute, opens_at, closes_at)
         SELECT decision_id, user_id, subject_id, statute, opens_at, closes_at
           FROM jsonb_to_recordset($10::jsonb) AS w(decision_id uuid, user_id text,
                subject_id text, statute text, opens_at timestamptz, closes_at timestamptz)),
       ${outboxed.cte}
       SELECT 1`,
      [...params, ...outboxed.params],
    );
  }
}
