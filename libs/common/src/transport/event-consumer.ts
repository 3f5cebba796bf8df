import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../contracts/event-envelope';
import type { Topic } from '../contracts/topics';

/**
 * Applies events to a consumer's own tables. Called inside the consumer's transaction, with
 * events already filtered through the inbox: each event reaches `handle` once in effect.
 */
export interface EventHandler {
  handle(events: readonly EventEnvelope[], tx: EntityManager): Promise<void>;
  /**
   * Called when the consumer knows it has applied every event committed at the source before
   * `asOf` (without `asOf`: before now): a replica uses it to know how fresh it is. On
   * PostgreSQL that is a read that found nothing committed waiting; on Kafka, a relay
   * watermark applied on every partition (a Kafka consumer's schema then needs the
   * `kafka_partitions` table). Only the instance doing the reading calls it, so it must record
   * the fact where every instance can read it.
   */
  caughtUp?(asOf?: Date): Promise<void>;
  /**
   * The events the handler acts on, when it ignores the rest: those are passed over (their
   * position consumed, no inbox row, never handed to it). `matches` decides on every transport;
   * `sql`, a condition over the outbox row `o` that holds for every event `matches` accepts
   * (it may hold for more), lets the PostgreSQL transport leave the others' envelopes unread.
   */
  select?: EventSelection;
  /**
   * The handler itself recognises events it applied before (a unique key of its own) and
   * passes over them: the transport then keeps no inbox rows for the group, only drops a
   * second copy of an event within one batch.
   */
  deduplicates?: boolean;
}

/** See EventHandler.select. */
export interface EventSelection {
  matches(event: EventEnvelope): boolean;
  sql?: string;
}

/** What a consumer group reads and where it keeps its inbox and checkpoints. */
export interface Subscription {
  /** Consumer group name, stable across restarts (`audit-service.ingest`). */
  group: string;
  topic: Topic;
  /** Schema of the consuming service: its inbox and checkpoints live there. */
  schema: string;
  handler: EventHandler;
}

/** A running consumer, whichever transport carries it. */
export interface EventConsumer {
  start(): Promise<void>;
  /** Finishes the batch in hand, then stops. */
  stop(): Promise<void>;
  /** Whether the transport could be reached at the last attempt. */
  isHealthy(): boolean;
}

/** The events to hand to the handler: through the inbox, unless the handler deduplicates. */
export async function unprocessed(
  tx: EntityManager,
  subscription: Subscription,
  events: readonly EventEnvelope[],
): Promise<EventEnvelope[]> {
  if (!subscription.handler.deduplicates) {
    return claimUnprocessed(tx, subscription.schema, subscription.group, events);
  }
  const seen = new Set<string>();
  return events.filter((e) => {
    if (seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
}

/** Records events in the inbox and returns the ones not processed before, in order. */
export async function claimUnprocessed(
  tx: EntityManager,
  schema: string,
  group: string,
  events: readonly EventEnvelope[],
): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const rows: { event_id: string }[] = await tx.query(
    `INSERT INTO "${schema}".inbox (consumer_group, event_id)
     SELECT $1, id FROM unnest($2::uuid[]) AS id
     ON CONFLICT DO NOTHING
     RETURNING event_id`,
    [group, events.map((e) => e.id)],
  );
  const fresh = new Set(rows.map((r) => r.event_id));
  // A batch may carry the same event twice (relay retry); keep the first copy only.
  const seen = new Set<string>();
  return events.filter((e) => {
    if (!fresh.has(e.id) || seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
}
