import type { DecisionEventData, EventEnvelope } from '#common';

/**
 * What one log entry records. Identifiers, codes and categories only: free text written by
 * people (notes, reasons) and contact details never enter the log.
 */
export interface EntryContent {
  /** When the recorded thing happened (the event's time). */
  at: string;
  actor: { userId: string; org: string; role: string } | null;
  subjectId: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  categories: string[];
  legalBasis: Record<string, unknown> | null;
  correlationId: string;
  sourceEventId: string;
  sourceType: string;
  details: Record<string, unknown>;
}

/** The hashed entry: its content at its place in the log. */
export type LogEntry = EntryContent & { seq: number };

type Data = Record<string, unknown>;

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const purposeOf = (purposes: string[]): string | null =>
  purposes.length === 0 ? null : purposes.join(',');

/** Picks named fields that are present, so optional identifiers stay optional. */
function pick(data: Data, keys: string[]): Data {
  return Object.fromEntries(keys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));
}

/** The log entry for one event from any stream; every event gets one, known or not. */
export function entryFromEvent(event: EventEnvelope): EntryContent {
  const data = (event.data ?? {}) as Data;
  const base: EntryContent = {
    at: event.occurredAt,
    actor: event.actor
      ? { userId: event.actor.userId, org: event.actor.org, role: event.actor.role }
      : null,
    subjectId: event.subjectId ?? null,
    action: event.type.replace(/\.v\d+$/, ''),
    outcome: 'recorded',
    purpose: null,
    categories: [],
    legalBasis: null,
    correlationId: event.correlationId,
    sourceEventId: event.id,
    sourceType: event.type,
    details: { streamId: event.streamId, streamVersion: event.streamVersion },
  };
  switch (event.type) {
    case 'consent.granted.v1':
    case 'consent.refused.v1':
      return {
        ...base,
        purpose: purposeOf(list(data.purposes)),
        categories: list(data.dataCategories),
        details: {
          ...base.details,
          ...pick(data, ['consentId', 'recipients', 'validFrom', 'validUntil', 'evidenceRef']),
          capture: pick((data.capture ?? {}) as Data, ['method', 'givenBy', 'capacity']),
        },
      };
    case 'objection.raised.v1':
      return {
        ...base,
        outcome: 'pending',
        purpose: purposeOf(list(data.purposes)),
        categories: list(data.dataCategories),
        details: { ...base.details, ...pick(data, ['objectionId', 'recipients']) },
      };
    case 'objection.decided.v1':
      return {
        ...base,
        outcome: text(data.outcome) ?? 'recorded',
        details: { ...base.details, ...pick(data, ['objectionId']) },
      };
    case 'consent.withdrawn.v1':
    case 'objection.withdrawn.v1':
    case 'proxy.revoked.v1':
      return {
        ...base,
        details: { ...base.details, ...pick(data, ['consentId', 'objectionId', 'proxyId']) },
      };
    case 'contact-preferences.set.v1':
      // Where the person wants notices sent is theirs alone: only the channel is logged.
      return { ...base, details: { ...base.details, ...pick(data, ['channel']) } };
    case 'proxy.registered.v1':
      return {
        ...base,
        details: { ...base.details, ...pick(data, ['proxyId', 'kind', 'validFrom', 'validUntil']) },
      };
    case 'gateway.decision.v1':
      return decisionEntry(base, data as unknown as DecisionEventData);
    case 'audit.break-glass.reviewed.v1':
      return {
        ...base,
        outcome: text(data.outcome) ?? 'recorded',
        details: { ...base.details, ...pick(data, ['decisionId']) },
      };
    default:
      // Notice status changes: ids, statuses and codes only (never the notice or an address).
      if (event.type.startsWith('audit.notification.')) {
        return {
          ...base,
          outcome: text(data.status) ?? 'recorded',
          details: {
            ...base.details,
            ...pick(data, [
              'notificationId',
              'decisionId',
              'channel',
              'attempt',
              'reason',
              'failureReason',
              'reviewBy',
              'nextAttemptAt',
            ]),
          },
        };
      }
      return referenceEntry(base, data);
  }
}

function decisionEntry(base: EntryContent, d: DecisionEventData): EntryContent {
  const released = d.channel === 'record' && d.permitted.length > 0;
  return {
    ...base,
    actor: {
      userId: d.requester.userId,
      org: d.requester.org,
      role: d.requester.roles[0] ?? base.actor?.role ?? 'unknown',
    },
    subjectId: d.subjectId,
    // A record-route permit is a disclosure: data left the gateway.
    action: released
      ? 'record.disclosed'
      : d.channel === 'record'
        ? 'record.denied'
        : 'access.decided',
    outcome: d.outcome,
    purpose: d.purpose,
    categories: released ? d.permitted : d.requested,
    legalBasis: { ...d.legalBasis },
    details: {
      ...base.details,
      decisionId: d.decisionId,
      channel: d.channel,
      requested: d.requested,
      permitted: d.permitted,
      denied: d.denied,
      obligations: d.obligations,
      needToKnow: d.needToKnow,
      recipientOrg: d.recipientOrg,
      requesterRoles: d.requester.roles,
      caller: d.caller,
      breakGlass: d.breakGlass,
      breakGlassWindowId: d.breakGlassWindowId,
      consentVersion: d.consentVersion,
      policyVersion: d.policyVersion,
    },
  };
}

/** Reference-data changes and anything else: identifiers and codes, no names or titles. */
function referenceEntry(base: EntryContent, data: Data): EntryContent {
  return {
    ...base,
    details: {
      ...base.details,
      ...pick(data, [
        'version',
        'odsCode',
        'kind',
        'country',
        'userId',
        'org',
        'roles',
        'teams',
        'igTrainingCompletedOn',
        'accountEndsOn',
        'agreementId',
        'parties',
        'purposes',
        'dataCategories',
        'legalBasis',
        'status',
        'validFrom',
        'validUntil',
        'relationshipId',
        'teamId',
        'type',
        'endedAt',
        'grantId',
        'purpose',
        'approvedBy',
      ]),
    },
  };
}
