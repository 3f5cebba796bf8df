import type { PublishedConsentEvent } from '#common';
import type { ConsentFacts } from '../policy/policy.types';

/** A person's consent state as the gateway keeps it: what decisions read, nothing more. */
export type ReplicaState = Omit<ConsentFacts, 'stale'>;

/** One consent event as the replica stores it. */
export type ReplicaEvent = PublishedConsentEvent & { streamVersion: number; occurredAt: string };

export function emptyReplicaState(): ReplicaState {
  return { streamVersion: 0, consents: [], objections: [], nationalOptOut: false };
}

/** Applies one consent event; pure, so the state at any version is a replay of the events up to it. */
export function evolveReplica(state: ReplicaState, event: ReplicaEvent): ReplicaState {
  const next = { ...state, streamVersion: event.streamVersion };
  const e: PublishedConsentEvent = event;
  switch (e.type) {
    case 'consent.granted.v1':
    case 'consent.refused.v1':
      return {
        ...next,
        consents: [
          ...state.consents,
          {
            consentId: e.data.consentId,
            decision: e.type === 'consent.granted.v1' ? 'granted' : 'refused',
            purposes: e.data.purposes,
            recipients: e.data.recipients,
            dataCategories: e.data.dataCategories,
            validFrom: e.data.validFrom,
            validUntil: e.data.validUntil,
            withdrawnAt: null,
          },
        ],
      };
    case 'consent.withdrawn.v1':
      return {
        ...next,
        consents: state.consents.map((c) =>
          c.consentId === e.data.consentId ? { ...c, withdrawnAt: event.occurredAt } : c,
        ),
      };
    case 'objection.raised.v1':
      return {
        ...next,
        objections: [
          ...state.objections,
          {
            objectionId: e.data.objectionId,
            status: 'pending',
            purposes: e.data.purposes,
            recipients: e.data.recipients,
            dataCategories: e.data.dataCategories,
          },
        ],
      };
    case 'objection.decided.v1':
      return {
        ...next,
        objections: state.objections.map((o) =>
          o.objectionId === e.data.objectionId ? { ...o, status: e.data.outcome } : o,
        ),
      };
    case 'objection.withdrawn.v1':
      return {
        ...next,
        objections: state.objections.map((o) =>
          o.objectionId === e.data.objectionId ? { ...o, status: 'withdrawn' } : o,
        ),
      };
    case 'national-opt-out.set.v1':
      return { ...next, nationalOptOut: true };
    case 'national-opt-out.cleared.v1':
      return { ...next, nationalOptOut: false };
    case 'contact-preferences.set.v1':
    case 'proxy.registered.v1':
    case 'proxy.revoked.v1':
      // Not read by decisions; the version still advances so the replica knows it is current.
      return next;
    default: {
      const unknown: never = e;
      throw new Error(`Unknown consent event ${(unknown as { type: string }).type}`);
    }
  }
}

/** Replays events in stream order. */
export function replayReplica(events: readonly ReplicaEvent[]): ReplicaState {
  return [...events]
    .sort((a, b) => a.streamVersion - b.streamVersion)
    .reduce(evolveReplica, emptyReplicaState());
}
