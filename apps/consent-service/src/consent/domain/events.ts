import type { DataCategory, Purpose } from '#common';

/** How a consent or refusal was captured (API.md `capture`). */
export interface Capture {
  method: 'verbal' | 'written' | 'electronic';
  givenBy: 'subject' | 'lpa-health-welfare' | 'deputy' | 'parent';
  capacity: 'has-capacity' | 'lacks-capacity-best-interests' | 'gillick-competent';
  proxyName?: string;
  /** Who made a best-interests decision (Mental Capacity Act 2005 s.4), when the person lacks capacity. */
  decisionMaker?: string;
  bestInterestsReason?: string;
}

/** What a consent, refusal or objection covers. */
export interface Scope {
  purposes: Purpose[];
  /** ODS codes or `kind:<organisation-kind>`. */
  recipients: string[];
  dataCategories: DataCategory[];
}

export type ProxyKind = 'lpa-health-welfare' | 'deputy' | 'parent';

export interface ConsentRecorded extends Scope {
  consentId: string;
  validFrom: string;
  validUntil: string | null;
  capture: Capture;
  evidenceRef: string | null;
  notes: string | null;
}

/** Events of one person's stream. `type` strings are stored: never rename, add a version. */
export type ConsentEvent =
  | { type: 'consent.granted.v1'; data: ConsentRecorded }
  | { type: 'consent.refused.v1'; data: ConsentRecorded }
  | { type: 'consent.withdrawn.v1'; data: { consentId: string; reason: string } }
  | { type: 'objection.raised.v1'; data: Scope & { objectionId: string; reason: string } }
  | {
      type: 'objection.decided.v1';
      data: { objectionId: string; outcome: 'upheld' | 'overruled'; reason: string };
    }
  | { type: 'objection.withdrawn.v1'; data: { objectionId: string; reason: string } }
  | { type: 'national-opt-out.set.v1'; data: Record<string, never> }
  | { type: 'national-opt-out.cleared.v1'; data: Record<string, never> }
  | {
      type: 'contact-preferences.set.v1';
      data: {
        channel: 'email' | 'sms' | 'letter';
        email?: string;
        phone?: string;
        address?: string;
      };
    }
  | {
      type: 'proxy.registered.v1';
      data: {
        proxyId: string;
        kind: ProxyKind;
        name: string;
        reference: string;
        validFrom: string;
        validUntil: string | null;
      };
    }
  | { type: 'proxy.revoked.v1'; data: { proxyId: string; reason: string } };

export type ConsentEventType = ConsentEvent['type'];

/** Who did it and when: kept with each stored event. */
export interface EventMetadata {
  actor: { userId: string; org: string; role: string; name?: string };
  correlationId: string;
  causationId: string | null;
  idempotencyKey?: string;
}

/** An event as read back from the store. */
export type StoredEvent = ConsentEvent & {
  eventId: string;
  streamVersion: number;
  recordedAt: string;
  metadata: EventMetadata;
};
