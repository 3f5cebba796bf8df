import type { Role } from './vocabulary';

/** Who caused an event; identifiers only, never names or free text. */
export interface EventActor {
  userId: string;
  org: string;
  role: Role | 'system';
}

/**
 * The envelope every integration event travels in (DESIGN.md "Events and transport").
 * `type` is an explicit, versioned literal such as `consent.granted.v1`.
 */
export interface EventEnvelope<TData = unknown, TType extends string = string> {
  id: string;
  type: TType;
  streamId: string;
  streamVersion: number;
  /** NHS number of the person the event is about, when there is one; the Kafka key. */
  subjectId?: string;
  occurredAt: string;
  actor: EventActor | null;
  correlationId: string;
  causationId: string | null;
  data: TData;
}

/** What a producer supplies; the outbox assigns `id` and `occurredAt` when absent. */
export type NewEvent<TData = unknown, TType extends string = string> = Omit<
  EventEnvelope<TData, TType>,
  'id' | 'occurredAt'
> & { id?: string; occurredAt?: string };
