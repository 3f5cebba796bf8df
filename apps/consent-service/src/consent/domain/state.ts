import type { Capture, ConsentEvent, ProxyKind, Scope, StoredEvent } from './events';

export interface ConsentRecord extends Scope {
  consentId: string;
  decision: 'granted' | 'refused';
  validFrom: string;
  validUntil: string | null;
  capture: Capture;
  evidenceRef: string | null;
  recordedAt: string;
  recordedBy: string;
  streamVersion: number;
  withdrawn: { at: string; by: string; streamVersion: number } | null;
}

export interface ObjectionRecord extends Scope {
  objectionId: string;
  status: 'pending' | 'upheld' | 'overruled' | 'withdrawn';
  raisedAt: string;
  raisedBy: string;
  decidedAt: string | null;
  decidedBy: string | null;
  streamVersion: number;
}

export interface ProxyRecord {
  proxyId: string;
  kind: ProxyKind;
  name: string;
  reference: string;
  validFrom: string;
  validUntil: string | null;
  revokedAt: string | null;
}

/** One person's consent state: what every decision about sharing their record reads. */
export interface SubjectState {
  subjectId: string;
  streamVersion: number;
  consents: ConsentRecord[];
  objections: ObjectionRecord[];
  nationalOptOut: boolean;
  contactPreferences: {
    channel: 'email' | 'sms' | 'letter';
    email?: string;
    phone?: string;
    address?: string;
  } | null;
  proxies: ProxyRecord[];
  updatedAt: string | null;
}

/** The state of a person with no events yet. */
export function initialState(subjectId: string): SubjectState {
  return {
    subjectId,
    streamVersion: 0,
    consents: [],
    objections: [],
    nationalOptOut: false,
    contactPreferences: null,
    proxies: [],
    updatedAt: null,
  };
}

/** Applies one stored event; pure, so any past state is a replay of the events before it. */
export function evolve(state: SubjectState, event: StoredEvent): SubjectState {
  const next: SubjectState = {
    ...state,
    streamVersion: event.streamVersion,
    updatedAt: event.recordedAt,
  };
  const by = event.metadata.actor.userId;
  const e: ConsentEvent = event;
  switch (e.type) {
    case 'consent.granted.v1':
    case 'consent.refused.v1': {
      const {
        consentId,
        purposes,
        recipients,
        dataCategories,
        validFrom,
        validUntil,
        capture,
        evidenceRef,
      } = e.data;
      return {
        ...next,
        consents: [
          ...state.consents,
          {
            consentId,
            decision: e.type === 'consent.granted.v1' ? 'granted' : 'refused',
            purposes,
            recipients,
            dataCategories,
            validFrom,
            validUntil,
            capture,
            evidenceRef,
            recordedAt: event.recordedAt,
            recordedBy: by,
            streamVersion: event.streamVersion,
            withdrawn: null,
          },
        ],
      };
    }
    case 'consent.withdrawn.v1':
      return {
        ...next,
        consents: state.consents.map((c) =>
          c.consentId === e.data.consentId
            ? { ...c, withdrawn: { at: event.recordedAt, by, streamVersion: event.streamVersion } }
            : c,
        ),
      };
    case 'objection.raised.v1': {
      const { objectionId, purposes, recipients, dataCategories } = e.data;
      return {
        ...next,
        objections: [
          ...state.objections,
          {
            objectionId,
            purposes,
            recipients,
            dataCategories,
            status: 'pending',
            raisedAt: event.recordedAt,
            raisedBy: by,
            decidedAt: null,
            decidedBy: null,
            streamVersion: event.streamVersion,
          },
        ],
      };
    }
    case 'objection.decided.v1':
      return {
        ...next,
        objections: state.objections.map((o) =>
          o.objectionId === e.data.objectionId
            ? { ...o, status: e.data.outcome, decidedAt: event.recordedAt, decidedBy: by }
            : o,
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
      return { ...next, contactPreferences: { ...e.data } };
    case 'proxy.registered.v1':
      return { ...next, proxies: [...state.proxies, { ...e.data, revokedAt: null }] };
    case 'proxy.revoked.v1':
      return {
        ...next,
        proxies: state.proxies.map((p) =>
          p.proxyId === e.data.proxyId ? { ...p, revokedAt: event.recordedAt } : p,
        ),
      };
    default: {
      const unknown: never = e;
      throw new Error(`Unknown consent event ${(unknown as { type: string }).type}`);
    }
  }
}

/** Replays a stream from the beginning. */
export function replay(subjectId: string, events: readonly StoredEvent[]): SubjectState {
  return events.reduce(evolve, initialState(subjectId));
}

/** A consent's standing at an instant: expiry needs no job, it is read from the validity window. */
export function consentStatus(
  consent: ConsentRecord,
  at: Date,
): 'active' | 'withdrawn' | 'expired' | 'not-yet-valid' {
  if (consent.withdrawn && new Date(consent.withdrawn.at) <= at) return 'withdrawn';
  if (consent.validUntil && new Date(consent.validUntil) <= at) return 'expired';
  if (new Date(consent.validFrom) > at) return 'not-yet-valid';
  return 'active';
}
