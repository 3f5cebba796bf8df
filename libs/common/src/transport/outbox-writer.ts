import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope, NewEvent } from '../contracts/event-envelope';
import type { Topic } from '../contracts/topics';

/**
 * Writes events into a service's outbox inside the caller's transaction, so an event exists
 * exactly when the state change it describes was committed.
 */
export class OutboxWriter {
  constructor(
    private readonly schema: string,
    private readonly topic: Topic,
  ) {}

  /** Appends events in order, using the caller's transactional EntityManager. */
  async append(tx: EntityManager, events: readonly NewEvent[]): Promise<EventEnvelope[]> {
    if (!tx.queryRunner?.isTransactionActive) {
      throw new Error('OutboxWriter.append must run inside the caller’s transaction');
    }
    if (events.length === 0) return [];
    const { cte, params, envelopes } = this.statement(events, 1);
    await tx.query(`WITH ${cte} SELECT 1`, params);
    return envelopes;
  }

  /**
   * The outbox insert as a common table expression named `outboxed`, with parameters numbered
   * from `firstParam`, for a caller that writes its state and its events in one statement
   * (a single statement is atomic on its own, so it needs no explicit transaction).
   */
  statement(
    events: readonly NewEvent[],
    firstParam: number,
  ): { cte: string; params: unknown[]; envelopes: EventEnvelope[] } {
    const now = new Date().toISOString();
    const envelopes: EventEnvelope[] = events.map((event) => ({
      ...event,
      id: event.id ?? randomUUID(),
      occurredAt: event.occurredAt ?? now,
    }));
    const p = (i: number): string => `$${firstParam + i}`;
    return {
      cte: `outboxed AS (
        INSERT INTO "${this.schema}".outbox
          (event_id, topic, type, stream_id, stream_version, partition_key, envelope)
        SELECT * FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::int[], ${p(5)}::text[], ${p(6)}::jsonb[]))`,
      params: [
        envelopes.map((e) => e.id),
        envelopes.map(() => this.topic),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.streamId),
        envelopes.map((e) => e.streamVersion),
        envelopes.map((e) => e.subjectId ?? e.streamId),
        envelopes.map((e) => JSON.stringify(e)),
      ],
      envelopes,
    };
  }
}
