import type { NewEvent } from '#common';
import type { ConsentEvent, StoredEvent } from '../domain/events';

/**
 * What other services learn of a consent event: who, what, when and scope, never free text
 * (notes, reasons, a proxy's name), which stays in this service's own store.
 */
export function publicData(event: ConsentEvent): Record<string, unknown> {
  switch (event.type) {
    case 'consent.granted.v1':
    case 'consent.refused.v1': {
      const { notes: _notes, capture, ...rest } = event.data;
      return {
        ...rest,
        capture: { method: capture.method, givenBy: capture.givenBy, capacity: capture.capacity },
      };
    }
    case 'consent.withdrawn.v1':
      return { consentId: event.data.consentId };
    case 'objection.raised.v1': {
      const { reason: _reason, ...rest } = event.data;
      return rest;
    }
    case 'objection.decided.v1':
      return { objectionId: event.data.objectionId, outcome: event.data.outcome };
    case 'objection.withdrawn.v1':
      return { objectionId: event.data.objectionId };
    case 'national-opt-out.set.v1':
    case 'national-opt-out.cleared.v1':
      return {};
    case 'contact-preferences.set.v1':
      // The audit service sends disclosure notices, so it needs where to send them.
      return { ...event.data };
    case 'proxy.registered.v1': {
      const { name: _name, ...rest } = event.data;
      return rest;
    }
    case 'proxy.revoked.v1':
      return { proxyId: event.data.proxyId };
    default: {
      const unknown: never = event;
      throw new Error(`Unknown consent event ${(unknown as { type: string }).type}`);
    }
  }
}

/** The integration event for the outbox (`consent.events`). */
export function toIntegrationEvent(subjectId: string, event: StoredEvent): NewEvent {
  const { actor, correlationId, causationId } = event.metadata;
  return {
    id: event.eventId,
    type: event.type,
    streamId: `subject-${subjectId}`,
    streamVersion: event.streamVersion,
    subjectId,
    occurredAt: event.recordedAt,
    actor: {
      userId: actor.userId,
      org: actor.org,
      role: actor.role as NonNullable<NewEvent['actor']>['role'],
    },
    correlationId,
    causationId,
    data: publicData(event),
  };
}
