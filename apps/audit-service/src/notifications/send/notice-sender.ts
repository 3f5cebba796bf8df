import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  backoffDelay,
  OutboxWriter,
  PollingLoop,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type Logger,
  type NewEvent,
} from '#common';
import type { AuditServiceEnv } from '../../config/env';
import { NOTICE_CHANNEL } from '../channels/notice-channel.provider';
import {
  DeliveryFailed,
  DeliveryRejected,
  destinationOf,
  type ContactPreferences,
  type NoticeChannel,
} from '../channels/notice-channel';
import type { NoticeFacts } from '../notice/notice-facts';
import { renderNotice } from '../notice/render-notice';
import { NOTIFICATION_EVENT_TYPES, notificationEvent } from '../notification-events';
import { tryLockSubject } from '../subject-lock';
import { updateReturning } from '../updated-rows';
import { nextState, type AttemptResult, type NextState } from './attempt-outcome';

/** Notices sent per round before the loop looks again at once. */
const BATCH = 20;
/** Deferrals released per round. */
const RELEASE_BATCH = 100;
/** A provider that has not answered by then is treated as a transient failure. */
const SEND_TIMEOUT_MS = 30_000;

interface DueRow {
  id: string;
  decision_id: string;
  subject_id: string;
  facts: NoticeFacts;
  attempts: number;
  correlation_id: string;
}

/**
 * Sends due notices. Each notice is sent in its own transaction that holds its row
 * (`FOR UPDATE SKIP LOCKED`), so several replicas never send one twice and a failure on one
 * notice never undoes another's `sent`. The row stays locked while the provider is called:
 * a crash between the provider accepting and the commit sends that notice again on restart
 * (at least once: a duplicate notice is better than none). Each round first makes deferred
 * notices whose review date has passed due again.
 */
@Injectable()
export class NoticeSender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    @Inject(SERVICE_CONFIG) private readonly config: AuditServiceEnv,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(NOTICE_CHANNEL) private readonly channel: NoticeChannel,
  ) {
    this.loop = new PollingLoop(() => this.runOnce(), {
      batchSize: BATCH,
      idleMs: config.NOTIFICATION_SEND_INTERVAL_MS,
      onError: (error, retryInMs) =>
        logger.error({ err: error, retryInMs }, 'notice sender round failed; retrying'),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Finishes the notice in hand, then stops (before the database pool closes). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One round: releases lapsed deferrals, then sends up to BATCH due notices. */
  async runOnce(): Promise<number> {
    await this.dataSource.transaction((tx) => this.releaseLapsedDeferrals(tx));
    let settled = 0;
    while (settled < BATCH && (await this.dataSource.transaction((tx) => this.sendOne(tx)))) {
      settled++;
    }
    return settled;
  }

  private async releaseLapsedDeferrals(tx: EntityManager): Promise<void> {
    const released = await updateReturning<{
      id: string;
      decision_id: string;
      subject_id: string;
      version: number;
      correlation_id: string;
    }>(
      tx,
      `WITH lapsed AS (
         SELECT n.id FROM audit.notifications n
           JOIN audit.notification_deferrals d ON d.id = n.deferral_id
          WHERE n.status = 'deferred' AND d.review_by <= now()
          ORDER BY d.review_by LIMIT $1
          FOR UPDATE OF n SKIP LOCKED)
       UPDATE audit.notifications n
          SET status = 'pending', due_at = now(), attempts = 0, failure_reason = NULL,
              last_error = NULL, released_at = now(), version = n.version + 1, updated_at = now()
         FROM lapsed WHERE n.id = lapsed.id
       RETURNING n.id, n.decision_id, n.subject_id, n.version, n.correlation_id`,
      [RELEASE_BATCH],
    );
    if (released.length === 0) return;
    await this.outbox.append(
      tx,
      released.map((n) =>
        notificationEvent(
          NOTIFICATION_EVENT_TYPES.due,
          {
            id: n.id,
            decisionId: n.decision_id,
            subjectId: n.subject_id,
            version: n.version,
            correlationId: n.correlation_id,
          },
          { status: 'pending', reason: 'deferral-review-date-passed' },
        ),
      ),
    );
  }

  /** Sends the most overdue notice; false when none is due (or its person is busy). */
  private async sendOne(tx: EntityManager): Promise<boolean> {
    const rows: DueRow[] = await tx.query(
      `SELECT id, decision_id, subject_id, facts, attempts, correlation_id
         FROM audit.notifications
        WHERE status = 'pending' AND due_at <= now()
        ORDER BY due_at, seq LIMIT 1
        FOR UPDATE SKIP LOCKED`,
    );
    if (rows.length === 0) return false;
    const [n] = rows;
    // A deferral or a new notice for this person is being written: leave it to the next round.
    if (!(await tryLockSubject(tx, n.subject_id))) return false;
    const contacts: ContactPreferences[] = await tx.query(
      `SELECT channel, email, phone, address FROM audit.notification_contacts WHERE subject_id = $1`,
      [n.subject_id],
    );
    const destination = destinationOf(contacts[0] ?? null);
    const result: AttemptResult = destination
      ? await this.deliver(tx, n, destination)
      : { kind: 'no-contact-details' };
    const next = nextState(result, n.attempts, {
      maxAttempts: this.config.NOTIFICATION_MAX_ATTEMPTS,
      delayMs: (attempt) =>
        backoffDelay(
          attempt,
          this.config.NOTIFICATION_RETRY_BASE_MS,
          this.config.NOTIFICATION_RETRY_CAP_MS,
        ),
    });
    await this.record(tx, n, next, destination?.channel ?? null);
    return true;
  }

  private async deliver(
    tx: EntityManager,
    n: DueRow,
    destination: NonNullable<ReturnType<typeof destinationOf>>,
  ): Promise<AttemptResult> {
    const names: { ods_code: string; name: string }[] = await tx.query(
      `SELECT ods_code, name FROM audit.notification_organisations WHERE ods_code = ANY($1::text[])`,
      [[n.facts.requesterOrg, n.facts.recipientOrg]],
    );
    const content = renderNotice(n.facts, {
      organisationNames: Object.fromEntries(names.map((o) => [o.ods_code, o.name])),
      contact: this.config.NOTICE_CONTACT,
      reference: n.id,
    });
    try {
      const { reference } = await withTimeout(
        this.channel.send({ notificationId: n.id, subjectId: n.subject_id, destination, content }),
        SEND_TIMEOUT_MS,
      );
      return { kind: 'delivered', reference };
    } catch (error) {
      if (error instanceof DeliveryRejected) return { kind: 'rejected', code: error.code };
      if (error instanceof DeliveryFailed) return { kind: 'transient', code: error.code };
      // Anything else may carry what was being sent: only its name and code are kept.
      const { name, code } = error as { name?: unknown; code?: unknown };
      const label = [name, code].filter((x) => typeof x === 'string').join('-') || 'error';
      this.logger.warn(
        { notificationId: n.id, channel: this.channel.name, error: label },
        'notice channel failed',
      );
      return { kind: 'transient', code: `${this.channel.name}-${label}`.slice(0, 120) };
    }
  }

  private async record(
    tx: EntityManager,
    n: DueRow,
    next: NextState,
    channel: string | null,
  ): Promise<void> {
    let version: number;
    let event: NewEvent;
    const stream = (v: number) => ({
      id: n.id,
      decisionId: n.decision_id,
      subjectId: n.subject_id,
      version: v,
      correlationId: n.correlation_id,
    });
    switch (next.status) {
      case 'sent': {
        [{ version }] = await updateReturning<{ version: number }>(
          tx,
          `UPDATE audit.notifications
              SET status = 'sent', sent_at = clock_timestamp(), due_at = NULL, attempts = $2,
                  channel = $3, provider_reference = $4, last_error = NULL,
                  version = version + 1, updated_at = now()
            WHERE id = $1 RETURNING version`,
          [n.id, next.attempts, channel, next.reference],
        );
        event = notificationEvent(NOTIFICATION_EVENT_TYPES.sent, stream(version), {
          status: 'sent',
          channel,
          attempts: next.attempts,
        });
        break;
      }
      case 'failed': {
        [{ version }] = await updateReturning<{ version: number }>(
          tx,
          `UPDATE audit.notifications
              SET status = 'failed', due_at = NULL, attempts = $2, channel = $3,
                  failure_reason = $4, last_error = $5, version = version + 1, updated_at = now()
            WHERE id = $1 RETURNING version`,
          [n.id, next.attempts, channel, next.reason, next.lastError],
        );
        this.logger.warn(
          { notificationId: n.id, reason: next.reason, lastError: next.lastError },
          'notice failed',
        );
        event = notificationEvent(NOTIFICATION_EVENT_TYPES.failed, stream(version), {
          status: 'failed',
          channel,
          reason: next.reason,
          attempts: next.attempts,
        });
        break;
      }
      case 'pending': {
        const [row] = await updateReturning<{ version: number; due_at: Date }>(
          tx,
          `UPDATE audit.notifications
              SET due_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000),
                  attempts = $3, channel = $4, last_error = $5,
                  version = version + 1, updated_at = now()
            WHERE id = $1 RETURNING version, due_at`,
          [n.id, next.retryInMs, next.attempts, channel, next.lastError],
        );
        version = row.version;
        event = notificationEvent(NOTIFICATION_EVENT_TYPES.retryScheduled, stream(version), {
          status: 'pending',
          channel,
          attempts: next.attempts,
          error: next.lastError,
          nextAttemptAt: row.due_at.toISOString(),
        });
        break;
      }
      default: {
        const unknown: never = next;
        throw new Error(`unknown state ${JSON.stringify(unknown)}`);
      }
    }
    await this.outbox.append(tx, [event]);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeliveryFailed('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
