import type { DataCategory, Purpose } from './vocabulary';

/**
 * What other services read of consent events on `consent.events` (the consent service strips
 * notes, reasons and names before publishing). Types are stored literals: never renamed.
 */
export interface PublishedScope {
  purposes: Purpose[];
  /** ODS codes or `kind:<organisation-kind>`. */
  recipients: string[];
  dataCategories: DataCategory[];
}

export interface PublishedConsentRecorded extends PublishedScope {
  consentId: string;
  validFrom: string;
  validUntil: string | null;
  capture: { method: string; givenBy: string; capacity: string };
  evidenceRef: string | null;
}

/** The consent events other services act on, with their published data. */
export type PublishedConsentEvent =
  | { type: 'consent.granted.v1'; data: PublishedConsentRecorded }
  | { type: 'consent.refused.v1'; data: PublishedConsentRecorded }
  | { type: 'consent.withdrawn.v1'; data: { consentId: string } }
  | { type: 'objection.raised.v1'; data: PublishedScope & { objectionId: string } }
  | {
      type: 'objection.decided.v1';
      data: { objectionId: string; outcome: 'upheld' | 'overruled' };
    }
  | { type: 'objection.withdrawn.v1'; data: { objectionId: string } }
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
        kind: string;
        reference: string;
        validFrom: string;
        validUntil: string | null;
      };
    }
  | { type: 'proxy.revoked.v1'; data: { proxyId: string } };

export type PublishedConsentEventType = PublishedConsentEvent['type'];
