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
   * (a single statement is atomic on its own, so it needs no explicit transaction). Events are
   * inserted in the order given, so each takes its position in that order.
   *
   * The rows go as one json document rather than one array per column: the driver escaped every
   * envelope into a jsonb[] literal character by character, which was half the CPU a producer
   * spent per event (22-31 -> 11-15 us for a 1 kB envelope), and PostgreSQL then unescaped it again.
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
    const rows = envelopes.map((e) => ({
      event_id: e.id,
      type: e.type,
      stream_id: e.streamId,
      stream_version: e.streamVersion,
      partition_key: e.subjectId ?? e.streamId,
      envelope: e,
    }));
    const p = (i: number): string => `$${firstParam + i}`;
    return {
      cte: `outboxed AS (
        INSERT INTO "${this.schema}".outbox
          (event_id, topic, type, stream_id, stream_version, partition_key, envelope)
        SELECT r.event_id, ${p(1)}::text, r.type, r.stream_id, r.stream_version, r.partition_key,
               r.envelope
          FROM ROWS FROM (jsonb_to_recordset(${p(0)}::jsonb) AS (event_id uuid, type text,
                 stream_id text, stream_version int, partition_key text, envelope jsonb))
               WITH ORDINALITY AS r(event_id, type, stream_id, stream_version, partition_key,
                 envelope, n)
         ORDER BY r.n)`,
      params: [JSON.stringify(rows), this.topic],
      envelopes,
    };
  }
}
