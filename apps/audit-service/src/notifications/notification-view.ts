import type { EntityManager } from 'typeorm';
import type { NoticeFacts } from './notice/notice-facts';

/** A notification as IG officers see it. Never the contact details: only the channel used. */
export interface NotificationView {
  id: string;
  decisionId: string;
  subjectId: string;
  status: 'pending' | 'sent' | 'failed' | 'deferred';
  createdAt: string;
  /** When a pending notice is next tried. */
  dueAt: string | null;
  attempts: number;
  channel: string | null;
  sentAt: string | null;
  /** The provider's id for the sent notice (GOV.UK Notify id, or the local file). */
  providerReference: string | null;
  /** Why a failed notice failed: no-contact-details, rejected-by-provider, attempts-exhausted. */
  failureReason: string | null;
  /** The last delivery error's code. */
  lastError: string | null;
  /** What the notice says happened. */
  disclosure: NoticeFacts;
  /** The deferral in force or, once its review date passed, the last one. */
  deferral: null | {
    id: string;
    reason: string;
    reviewBy: string;
    deferredBy: string;
    deferredAt: string;
    /** The notification the officer deferred, when this one was held back with it. */
    deferredWith: string | null;
  };
  /** When the deferral's review date passed and the notice became due again. */
  releasedAt: string | null;
}

interface Row {
  id: string;
  seq: string;
  decision_id: string;
  subject_id: string;
  status: NotificationView['status'];
  created_at: Date;
  due_at: Date | null;
  attempts: number;
  channel: string | null;
  sent_at: Date | null;
  provider_reference: string | null;
  failure_reason: string | null;
  last_error: string | null;
  facts: NoticeFacts;
  released_at: Date | null;
  deferral_id: string | null;
  deferral_reason: string | null;
  review_by: Date | null;
  deferred_by: string | null;
  deferred_at: Date | null;
  deferral_target: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toNotificationView(r: Row): NotificationView {
  return {
    id: r.id,
    decisionId: r.decision_id,
    subjectId: r.subject_id,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    dueAt: iso(r.due_at),
    attempts: r.attempts,
    channel: r.channel,
    sentAt: iso(r.sent_at),
    providerReference: r.provider_reference,
    failureReason: r.failure_reason,
    lastError: r.last_error,
    disclosure: r.facts,
    deferral:
      r.deferral_id && r.review_by && r.deferred_at
        ? {
            id: r.deferral_id,
            reason: r.deferral_reason ?? '',
            reviewBy: r.review_by.toISOString(),
            deferredBy: r.deferred_by ?? '',
            deferredAt: r.deferred_at.toISOString(),
            deferredWith: r.deferral_target === r.id ? null : r.deferral_target,
          }
        : null,
    releasedAt: iso(r.released_at),
  };
}

/** Notifications with their deferral, filtered by a WHERE clause over `n` and `d`. */
export async function readNotifications(
  db: Pick<EntityManager, 'query'>,
  where: string,
  params: unknown[],
  limit: number,
): Promise<{ views: NotificationView[]; seqs: number[] }> {
  const rows: Row[] = await db.query(
    `SELECT n.id, n.seq::text AS seq, n.decision_id, n.subject_id, n.status, n.created_at,
            n.due_at, n.attempts, n.channel, n.sent_at, n.provider_reference, n.failure_reason,
            n.last_error, n.facts, n.released_at, n.deferral_id, d.reason AS deferral_reason,
            d.review_by, d.deferred_by, d.deferred_at, d.notification_id AS deferral_target
       FROM audit.notifications n
       LEFT JOIN audit.notification_deferrals d ON d.id = n.deferral_id
      WHERE ${where}
      ORDER BY n.seq LIMIT ${Number(limit)}`,
    params,
  );
  return { views: rows.map(toNotificationView), seqs: rows.map((r) => Number(r.seq)) };
}
