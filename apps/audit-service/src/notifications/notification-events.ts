import type { EventActor, NewEvent } from '#common';

/**
 * Events the audit service publishes about notices on `audit.events`; the log ingests them
 * like any other, so every status change becomes a log entry. Stored literals: never renamed.
 * Their data holds ids, statuses, dates and codes only — never the notice's text, the
 * deferral's reason or anyone's contact details.
 */
export const NOTIFICATION_EVENT_TYPES = {
  created: 'audit.notification.created.v1',
  sent: 'audit.notification.sent.v1',
  retryScheduled: 'audit.notification.retry-scheduled.v1',
  failed: 'audit.notification.failed.v1',
  deferred: 'audit.notification.deferred.v1',
  /** Due to be sent again: a deferral's review date passed, or contact details arrived. */
  due: 'audit.notification.due.v1',
} as const;
export type NotificationEventType =
  (typeof NOTIFICATION_EVENT_TYPES)[keyof typeof NOTIFICATION_EVENT_TYPES];

/** A notification as its events need it; `version` is its new version after the change. */
export interface NotificationStream {
  id: string;
  decisionId: string;
  subjectId: string;
  version: number;
  correlationId: string;
}

/** One event of a notification's stream (`notification-<id>`), versioned by its row. */
export function notificationEvent(
  type: NotificationEventType,
  n: NotificationStream,
  data: { status: string } & Record<string, string | number | null>,
  options: { actor?: EventActor | null; correlationId?: string; causationId?: string } = {},
): NewEvent {
  return {
    type,
    streamId: `notification-${n.id}`,
    streamVersion: n.version,
    subjectId: n.subjectId,
    actor: options.actor ?? null,
    correlationId: options.correlationId ?? n.correlationId,
    causationId: options.causationId ?? null,
    data: { notificationId: n.id, decisionId: n.decisionId, ...data },
  };
}
