import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, OutboxWriter, type AuthenticatedUser, type Role } from '#common';
import { notificationNotFound } from '../notification-id';
import { NOTIFICATION_EVENT_TYPES, notificationEvent } from '../notification-events';
import { readNotifications, type NotificationView } from '../notification-view';
import { lockSubject } from '../subject-lock';
import { updateReturning } from '../updated-rows';

export const DEFERRERS: readonly Role[] = ['ig_officer', 'caldicott_guardian'];

export interface DeferNotification {
  notificationId: string;
  reason: string;
  reviewBy: Date;
  officer: AuthenticatedUser;
  correlationId: string;
}

/**
 * Holds a person's notices back until a review date, because telling them now would put
 * someone at risk or prejudice an investigation. The deferral is about the person: every
 * notice of theirs not yet sent is held with it (sending any would tell them of the others),
 * and notices created before the review date are held too (see the intake consumer). A sent
 * notice cannot be unsent: deferring it is a conflict.
 */
@Injectable()
export class DeferNotificationHandler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  async execute(
    command: DeferNotification,
  ): Promise<NotificationView & { alsoDeferred: string[] }> {
    const { notificationId: id, officer } = command;
    return this.dataSource.transaction(async (tx) => {
      const found: { subject_id: string }[] = await tx.query(
        `SELECT subject_id FROM audit.notifications WHERE id = $1`,
        [id],
      );
      if (found.length === 0) throw notificationNotFound(id);
      const subjectId = found[0].subject_id;
      // The person's lock, then the rows: the sender, holding a row, only tries this lock.
      await lockSubject(tx, subjectId);
      const rows: { id: string; status: string; sent_at: Date | null }[] = await tx.query(
        `SELECT id, status, sent_at FROM audit.notifications
          WHERE subject_id = $1 AND (id = $2 OR status IN ('pending', 'failed', 'deferred'))
          ORDER BY seq FOR UPDATE`,
        [subjectId, id],
      );
      const target = rows.find((r) => r.id === id);
      if (!target) throw notificationNotFound(id);
      if (target.status === 'sent') {
        throw new DomainError(
          'NOTIFICATION_ALREADY_SENT',
          `Notification ${id} was sent at ${target.sent_at?.toISOString()}; a sent notice cannot be deferred.`,
          'conflict',
        );
      }
      const deferralId = randomUUID();
      await tx.query(
        `INSERT INTO audit.notification_deferrals
           (id, notification_id, subject_id, reason, review_by, deferred_by)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [deferralId, id, subjectId, command.reason, command.reviewBy.toISOString(), officer.userId],
      );
      const deferred = await updateReturning<{
        id: string;
        decision_id: string;
        version: number;
        correlation_id: string;
      }>(
        tx,
        `UPDATE audit.notifications
              SET status = 'deferred', deferral_id = $1, due_at = NULL, released_at = NULL,
                  version = version + 1, updated_at = now()
            WHERE id = ANY($2::uuid[])
            RETURNING id, decision_id, version, correlation_id`,
        [deferralId, rows.map((r) => r.id)],
      );
      const role = officer.roles.find((r) => DEFERRERS.includes(r)) ?? officer.roles[0];
      await this.outbox.append(
        tx,
        deferred.map((n) =>
          notificationEvent(
            NOTIFICATION_EVENT_TYPES.deferred,
            {
              id: n.id,
              decisionId: n.decision_id,
              subjectId,
              version: n.version,
              correlationId: n.correlation_id,
            },
            // The reason is the officer's free text: kept in the deferral, not published.
            {
              status: 'deferred',
              deferralId,
              reviewBy: command.reviewBy.toISOString(),
              deferredWith: n.id === id ? null : id,
            },
            {
              actor: { userId: officer.userId, org: officer.org, role },
              correlationId: command.correlationId,
            },
          ),
        ),
      );
      const { views } = await readNotifications(tx, `n.id = $1`, [id], 1);
      return { ...views[0], alsoDeferred: deferred.map((n) => n.id).filter((n) => n !== id) };
    });
  }
}
