import type { DecisionEventData } from '#common';

/**
 * What a disclosure notice states, kept with the notification: codes and identifiers only.
 * Never record content, never the override's written reason (it does not leave the gateway),
 * never anyone's contact details.
 */
export interface NoticeFacts {
  /** When the override was decided (UTC). */
  at: string;
  /** `record` when the gateway released data itself; `decision` when an integration asked. */
  channel: 'decision' | 'record';
  /** ODS code of the requester's organisation. */
  requesterOrg: string;
  requesterRole: string;
  /** ODS code of the organisation the record went to (usually the requester's). */
  recipientOrg: string;
  purpose: string;
  /** The data categories the override released. */
  categories: string[];
  /** The statute the override relied on (a key of STATUTES). */
  statute: string | null;
}

/** The facts for a notice, or null when the decision does not oblige one (no notify-subject). */
export function noticeFactsOf(data: DecisionEventData, occurredAt: string): NoticeFacts | null {
  if (!Array.isArray(data.obligations) || !data.obligations.includes('notify-subject')) return null;
  return {
    at: data.decidedAt ?? occurredAt,
    channel: data.channel,
    requesterOrg: data.requester.org,
    // The same role the log entry records for the decision (its first role).
    requesterRole: data.requester.roles[0] ?? 'unknown',
    recipientOrg: data.recipientOrg ?? data.requester.org,
    purpose: data.purpose,
    categories: [...data.permitted],
    statute: data.breakGlass?.statute ?? data.legalBasis?.statutes?.[0] ?? null,
  };
}
