import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  GATEWAY_EVENT_TYPES,
  OutboxWriter,
  SERVICE_LOGGER,
  TOPICS,
  TransportService,
  type DecisionEventData,
  type EventEnvelope,
  type EventSelection,
  type Logger,
  type NewEvent,
  type PublishedConsentEventType,
} from '#common';
import { CONTACT_FAILURES } from '../send/attempt-outcome';
import { noticeFactsOf, type NoticeFacts } from '../notice/notice-facts';
import { NOTIFICATION_EVENT_TYPES, notificationEvent } from '../notification-events';
import { lockSubjects } from '../subject-lock';
import { updateReturning } from '../updated-rows';

const CONTACT_PREFERENCES_SET: PublishedConsentEventType = 'contact-preferences.set.v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHANNELS = ['email', 'sms', 'letter'];

interface Override {
  event: EventEnvelope;
  decisionId: string;
  subjectId: string;
  facts: NoticeFacts;
}
interface Contact {
  event: EventEnvelope;
  subjectId: string;
  channel: string;
  email: string | null;
  phone: string | null;
  address: string | null;
}
interface Organisation {
  odsCode: string;
  name: string;
  version: number;
}

/**
 * The events that can make or change a notice; `apply` ignores every other. Most gateway
 * decisions oblige no notice: passing them over in PostgreSQL saved reading, parsing and
 * recording three in four events of the log's whole feed a second time.
 */
export const NOTICE_EVENTS: EventSelection = {
  matches: (event) =>
    event.type === CONTACT_PREFERENCES_SET ||
    event.type === GATEWAY_EVENT_TYPES.organisationSet ||
    (event.type === GATEWAY_EVENT_TYPES.decision &&
      Array.isArray((event.data as { obligations?: unknown } | undefined)?.obligations) &&
      (event.data as { obligations: unknown[] }).obligations.includes('notify-subject')),
  sql: `(o.type IN ('${CONTACT_PREFERENCES_SET}', '${GATEWAY_EVENT_TYPES.organisationSet}')
         OR (o.type = '${GATEWAY_EVENT_TYPES.decision}'
             AND coalesce(o.envelope->'data'->'obligations' @> '["notify-subject"]', false)))`,
};

const optionalText = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : null;

/**
 * Turns events into notices. From the gateway: one notification per decision that obliges
 * telling the person (`notify-subject`), due at once, and organisation names; from consent:
 * each person's contact preferences. Runs inside the transport's transaction with its inbox,
 * so a redelivered event changes nothing; a notification is also unique on its decision, so
 * even the same decision under another event id makes only one.
 */
@Injectable()
export class NoticeIntakeConsumer implements OnModuleInit {
  constructor(
    private readonly transport: TransportService,
    private readonly outbox: OutboxWriter,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    for (const topic of [TOPICS.gateway, TOPICS.consent]) {
      this.transport.subscribe(`audit-service.notifications.${topic}`, topic, {
        handle: (events, tx) => this.apply(events, tx),
        select: NOTICE_EVENTS,
      });
    }
  }

  /** Applies a batch in the caller's transaction (the consumer's, with its inbox). */
  async apply(events: readonly EventEnvelope[], tx: EntityManager): Promise<void> {
    const overrides: Override[] = [];
    const contacts: Contact[] = [];
    const organisations: Organisation[] = [];
    for (const event of events) {
      const data = (event.data ?? {}) as Record<string, unknown>;
      if (event.type === GATEWAY_EVENT_TYPES.decision) {
        const decision = data as unknown as DecisionEventData;
        const facts = noticeFactsOf(decision, event.occurredAt);
        if (facts === null) continue;
        if (!UUID.test(String(decision.decisionId)) || typeof decision.subjectId !== 'string') {
          this.skip(event);
          continue;
        }
        overrides.push({
          event,
          decisionId: decision.decisionId.toLowerCase(),
          subjectId: decision.subjectId,
          facts,
        });
      } else if (event.type === CONTACT_PREFERENCES_SET) {
        if (!event.subjectId || !CHANNELS.includes(String(data.channel))) {
          this.skip(event);
          continue;
        }
        contacts.push({
          event,
          subjectId: event.subjectId,
          channel: String(data.channel),
          email: optionalText(data.email),
          phone: optionalText(data.phone),
          address: optionalText(data.address),
        });
      } else if (event.type === GATEWAY_EVENT_TYPES.organisationSet) {
        if (typeof data.odsCode !== 'string' || typeof data.name !== 'string') {
          this.skip(event);
          continue;
        }
        organisations.push({
          odsCode: data.odsCode,
          name: data.name,
          version: typeof data.version === 'number' ? data.version : event.streamVersion,
        });
      }
    }
    // Two consumer groups lock people here: in one order, so they cannot deadlock.
    const people = [...new Set([...overrides, ...contacts].map((x) => x.subjectId))].sort();
    await lockSubjects(tx, people);
    for (const organisation of organisations) await recordOrganisation(tx, organisation);
    const published: NewEvent[] = [];
    for (const contact of contacts) published.push(...(await recordContact(tx, contact)));
    for (const override of overrides) published.push(...(await createNotice(tx, override)));
    if (published.length > 0) await this.outbox.append(tx, published);
  }

  /** A malformed event is skipped (and said so by id) rather than blocking every later one. */
  private skip(event: EventEnvelope): void {
    this.logger.warn({ eventId: event.id, type: event.type }, 'notices: malformed event skipped');
  }
}

async function recordOrganisation(tx: EntityManager, o: Organisation): Promise<void> {
  await tx.query(
    `INSERT INTO audit.notification_organisations (ods_code, name, version) VALUES ($1, $2, $3)
     ON CONFLICT (ods_code) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version,
            updated_at = now()
      WHERE audit.notification_organisations.version < EXCLUDED.version`,
    [o.odsCode, o.name, o.version],
  );
}

/**
 * Keeps the person's latest contact preferences (an older event arriving late changes
 * nothing) and, when they changed, tries again the notices that failed for want of them.
 */
async function recordContact(tx: EntityManager, c: Contact): Promise<NewEvent[]> {
  const changed: unknown[] = await tx.query(
    `INSERT INTO audit.notification_contacts (subject_id, channel, email, phone, address, stream_version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (subject_id) DO UPDATE
        SET channel = EXCLUDED.channel, email = EXCLUDED.email, phone = EXCLUDED.phone,
            address = EXCLUDED.address, stream_version = EXCLUDED.stream_version, updated_at = now()
      WHERE audit.notification_contacts.stream_version < EXCLUDED.stream_version
     RETURNING subject_id`,
    [c.subjectId, c.channel, c.email, c.phone, c.address, c.event.streamVersion],
  );
  if (changed.length === 0) return [];
  const requeued = await updateReturning<{
    id: string;
    decision_id: string;
    version: number;
    correlation_id: string;
  }>(
    tx,
    `UPDATE audit.notifications
          SET status = 'pending', due_at = now(), attempts = 0, failure_reason = NULL,
              last_error = NULL, version = version + 1, updated_at = now()
        WHERE subject_id = $1 AND status = 'failed' AND failure_reason = ANY($2::text[])
        RETURNING id, decision_id, version, correlation_id`,
    [c.subjectId, CONTACT_FAILURES],
  );
  return requeued.map((n) =>
    notificationEvent(
      NOTIFICATION_EVENT_TYPES.due,
      {
        id: n.id,
        decisionId: n.decision_id,
        subjectId: c.subjectId,
        version: n.version,
        correlationId: n.correlation_id,
      },
      { status: 'pending', reason: 'contact-details-received' },
      { correlationId: c.event.correlationId, causationId: c.event.id },
    ),
  );
}

/**
 * One notification per decision, due at once — unless the person has a deferral still in
 * force, which then covers this notice too (telling them of the second override would tell
 * them of the first).
 */
async function createNotice(tx: EntityManager, o: Override): Promise<NewEvent[]> {
  const rows: { id: string; status: string; deferral_id: string | null }[] = await tx.query(
    `WITH in_force AS (
       SELECT d.id FROM audit.notifications n
         JOIN audit.notification_deferrals d ON d.id = n.deferral_id
        WHERE n.subject_id = $2 AND n.status = 'deferred' AND d.review_by > now()
        ORDER BY d.review_by DESC LIMIT 1)
     INSERT INTO audit.notifications
       (id, decision_id, subject_id, status, facts, source_event_id, correlation_id, due_at, deferral_id)
     SELECT $1, $3, $2, CASE WHEN f.id IS NULL THEN 'pending' ELSE 'deferred' END, $4::jsonb, $5,
            $6, CASE WHEN f.id IS NULL THEN now() END, f.id
       FROM (SELECT 1) one LEFT JOIN in_force f ON true
     ON CONFLICT (decision_id) DO NOTHING
     RETURNING id, status, deferral_id`,
    [
      randomUUID(),
      o.subjectId,
      o.decisionId,
      JSON.stringify(o.facts),
      o.event.id,
      o.event.correlationId,
    ],
  );
  if (rows.length === 0) return [];
  const [n] = rows;
  return [
    notificationEvent(
      NOTIFICATION_EVENT_TYPES.created,
      {
        id: n.id,
        decisionId: o.decisionId,
        subjectId: o.subjectId,
        version: 1,
        correlationId: o.event.correlationId,
      },
      { status: n.status, deferralId: n.deferral_id },
      { causationId: o.event.id },
    ),
  ];
}
