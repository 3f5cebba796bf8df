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
    const now = new Date().toISOString();
    const envelopes: EventEnvelope[] = events.map((event) => ({
      ...event,
      id: event.id ?? randomUUID(),
      occurredAt: event.occurredAt ?? now,
    }));
    await tx.query(
      `INSERT INTO "${this.schema}".outbox
         (event_id, topic, type, stream_id, stream_version, partition_key, envelope)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[])`,
      [
        envelopes.map((e) => e.id),
        envelopes.map(() => this.topic),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.streamId),
        envelopes.map((e) => e.streamVersion),
        envelopes.map((e) => e.subjectId ?? e.streamId),
        envelopes.map((e) => JSON.stringify(e)),
      ],
    );
    return envelopes;
  }
}
