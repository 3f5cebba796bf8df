import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { nhsNumbers, type EventEnvelope, type Logger, type Role } from '#common';
import { AppModule as AuditModule } from '../../apps/audit-service/src/app.module';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { AuditServiceEnv } from '../../apps/audit-service/src/config/env';
import { LocalFileChannel } from '../../apps/audit-service/src/notifications/channels/local-file.channel';
import {
  DeliveryFailed,
  type NoticeChannel,
  type OutgoingNotice,
} from '../../apps/audit-service/src/notifications/channels/notice-channel';
import { NOTICE_CHANNEL_OVERRIDE } from '../../apps/audit-service/src/notifications/channels/notice-channel.provider';
import { NoticeIntakeConsumer } from '../../apps/audit-service/src/notifications/intake/notice-intake.consumer';
import type { NotificationView } from '../../apps/audit-service/src/notifications/notification-view';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootGateway } from '../support/gateway-app';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(180_000);

const [A, B, C, D, E] = nhsNumbers(5, 943476600);
const TODAY = new Date().toISOString().slice(0, 10);
const CONTACT = 'the Information Governance team at Northshire County Council on 0300 123 4567';
const REASON = 'Neighbour reports the person has not been seen for a week';
const token = (sub: string, roles: Role[], org = 'X26') =>
  tokenFor(testDataDir(), { sub, org, roles });
const admin = token('admin-1', ['admin', 'ig_officer']);
const officer = token('ig-1', ['ig_officer']);
const guardian = token('cg-1', ['caldicott_guardian']);
const worker = token('sw-1', ['social_worker']);
const lead = token('lead-1', ['safeguarding_lead']);
const self = (nhs: string) => token(nhs, ['service_user']);

/**
 * The local outbox, counting every send and able to fail a person's next sends (a provider
 * outage). One instance serves both audit replicas, so its counts cover the whole system.
 */
class RecordingChannel implements NoticeChannel {
  readonly name = 'test-recording';
  readonly attempts: OutgoingNotice[] = [];
  readonly delivered: OutgoingNotice[] = [];
  private readonly failures = new Map<string, number>();

  constructor(private readonly files: LocalFileChannel) {}

  failNext(subjectId: string, times: number): void {
    this.failures.set(subjectId, times);
  }

  async send(notice: OutgoingNotice): Promise<{ reference: string }> {
    this.attempts.push(notice);
    const failures = this.failures.get(notice.subjectId) ?? 0;
    if (failures > 0) {
      this.failures.set(notice.subjectId, failures - 1);
      throw new DeliveryFailed('test-outage');
    }
    const sent = await this.files.send(notice);
    this.delivered.push(notice);
    return sent;
  }

  deliveredTo(subjectId: string): OutgoingNotice[] {
    return this.delivered.filter((n) => n.subjectId === subjectId);
  }
}

@Module({})
class NoticesTestRoot {}
@Module({})
class ChannelOverride {}

describe('audit service: disclosure notices to service users', () => {
  let db: { url: string; drop: () => Promise<void> };
  let consent: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  const audits: NestFastifyApplication[] = [];
  let superuser: Client;
  let outboxDir: string;
  let channel: RecordingChannel;
  const gw = () => request(gateway.getHttpServer());
  const au = () => request(audits[0].getHttpServer());
  const cs = () => request(consent.getHttpServer());

  const notices = async (query = ''): Promise<NotificationView[]> =>
    (
      await au()
        .get(`/v1/notifications?limit=1000${query}`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body;
  const noticeOf = async (decisionId: string): Promise<NotificationView | undefined> =>
    (await notices()).find((n) => n.decisionId === decisionId);
  const waitForNotice = async (
    decisionId: string,
    check: (n: NotificationView) => boolean,
    what: string,
  ): Promise<NotificationView> => {
    let found: NotificationView | undefined;
    await waitFor(
      async () => {
        found = await noticeOf(decisionId);
        return found !== undefined && check(found);
      },
      20_000,
      what,
    );
    return found as NotificationView;
  };
  /** A safeguarding lead overrides to read parts of a person's record; the decision id. */
  const override = async (subjectId: string, categories = 'care-plan') =>
    (
      await gw()
        .get(`/v1/subjects/${subjectId}/record?purpose=safeguarding&categories=${categories}`)
        .set('Authorization', `Bearer ${lead}`)
        .set('X-Break-Glass-Reason', REASON)
        .set('X-Break-Glass-Statute', 'care-act-2014-s42')
        .expect(200)
    ).body as { decisionId: string; categories: Record<string, unknown> };
  const setContact = async (subjectId: string, body: object) => {
    await cs()
      .put(`/v1/subjects/${subjectId}/contact-preferences`)
      .set('Authorization', `Bearer ${worker}`)
      .send(body)
      .expect(200);
    await waitFor(
      async () =>
        (
          await superuser.query(
            `SELECT 1 FROM audit.notification_contacts WHERE subject_id = $1 AND channel = $2`,
            [subjectId, (body as { channel: string }).channel],
          )
        ).rowCount === 1,
      20_000,
      'the contact preferences at the audit service',
    );
  };
  const logEntries = async (query: string) =>
    (
      await au()
        .get(`/v1/audit/entries?limit=1000&${query}`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body.entries as {
      action: string;
      outcome: string;
      subjectId: string;
      details: Record<string, unknown>;
    }[];
  /** The notice as the person reads it: the file's text after its header. */
  const noticeText = (notificationId: string) => {
    const text = readFileSync(join(outboxDir, `${notificationId}.txt`), 'utf8');
    return { whole: text, body: text.slice(text.indexOf('\n\n') + 2) };
  };

  beforeAll(async () => {
    db = await createTestDatabase('auditnotices');
    outboxDir = mkdtempSync(join(tmpdir(), 'notices-'));
    channel = new RecordingChannel(new LocalFileChannel(outboxDir));
    ({ app: consent } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      env: { TRANSPORT_POLL_INTERVAL_MS: '20' },
      appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
    }));
    gateway = await bootGateway(db.url);
    // Two replicas sending from one table: FOR UPDATE SKIP LOCKED must keep them apart.
    for (let i = 0; i < 2; i++) {
      const { app } = await bootServiceForTest({
        definition: AuditServiceDefinition,
        envSchema: AuditServiceEnv,
        url: db.url,
        env: {
          TRANSPORT_POLL_INTERVAL_MS: '20',
          TREE_HEAD_INTERVAL_MS: '200',
          NOTIFICATION_SEND_INTERVAL_MS: '50',
          NOTIFICATION_RETRY_BASE_MS: '100',
          NOTIFICATION_RETRY_CAP_MS: '200',
          NOTIFICATION_MAX_ATTEMPTS: '5',
          NOTICE_CONTACT: CONTACT,
        },
        appModule: (c: AuditServiceEnv, l: Logger) => ({
          module: NoticesTestRoot,
          imports: [
            AuditModule.forRoot(c, l),
            {
              module: ChannelOverride,
              global: true,
              providers: [{ provide: NOTICE_CHANNEL_OVERRIDE, useValue: channel }],
              exports: [NOTICE_CHANNEL_OVERRIDE],
            },
          ],
        }),
      });
      audits.push(app);
    }
    superuser = new Client({ connectionString: db.url });
    await superuser.connect();
    const put = (path: string, body: object) =>
      gw().put(path).set('Authorization', `Bearer ${admin}`).send(body).expect(200);
    await put('/v1/organisations/X26', {
      name: 'Northshire County Council',
      kind: 'local-authority',
      country: 'GB',
    });
    for (const [id, role] of [
      ['sw-1', 'social_worker'],
      ['lead-1', 'safeguarding_lead'],
    ]) {
      await put(`/v1/users/${id}`, {
        org: 'X26',
        roles: [role],
        teams: [],
        igTrainingCompletedOn: TODAY,
      });
    }
  });

  afterAll(async () => {
    await superuser?.end();
    for (const app of audits) await app.close();
    await gateway?.close();
    await consent?.close();
    await db?.drop();
    rmSync(outboxDir, { recursive: true, force: true });
  });

  let noticeA: NotificationView;
  let decisionA: string;
  let decisionA2: string;
  let recordB: Record<string, unknown>;

  it('sends one plain-English notice for a safeguarding override, naming organisation, role, parts, date and statute', async () => {
    await setContact(A, { channel: 'email', email: 'person.a@example.org' });
    await setContact(B, {
      channel: 'letter',
      address: 'Flat 2, 10 Hidden Lane, Eastbrook, EB1 2AB',
    });
    recordB = (await override(B, 'demographics,contacts,care-plan')).categories;
    const read = await override(A, 'care-plan,assessments');
    decisionA = read.decisionId;
    noticeA = await waitForNotice(decisionA, (n) => n.status === 'sent', 'A’s notice sent');
    expect(noticeA).toMatchObject({
      subjectId: A,
      status: 'sent',
      channel: 'email',
      attempts: 1,
      failureReason: null,
      deferral: null,
      providerReference: `local-file:${noticeA.id}.txt`,
      disclosure: {
        channel: 'record',
        requesterOrg: 'X26',
        requesterRole: 'safeguarding_lead',
        recipientOrg: 'X26',
        purpose: 'safeguarding',
        categories: ['care-plan', 'assessments'],
        statute: 'care-act-2014-s42',
      },
    });
    const { whole, body } = noticeText(noticeA.id);
    expect(whole.split('\n')[0]).toBe('To: person.a@example.org');
    expect(body).toMatch(
      /^On \d{1,2} [A-Z][a-z]+ \d{4} at \d{1,2}:\d{2}(am|pm), a safeguarding lead at Northshire County Council \(X26\) looked at your care plan and your assessments without asking you first\./,
    );
    expect(body).toContain('The law is the Care Act 2014 section 42 (safeguarding enquiry).');
    expect(body).toContain(`Contact ${CONTACT}. Give this reference: ${noticeA.id}.`);
  });

  it('puts nothing in a notice from any record, nor the override’s reason, nor anyone’s contact details', async () => {
    const { body } = noticeText(noticeA.id);
    // The records the override released: B's (another person's), and A's own.
    const second = await override(A, 'demographics,contacts,care-plan');
    decisionA2 = second.decisionId;
    const recordA = second.categories;
    const demographicsB = recordB.demographics as { name: string };
    const contactsB = recordB.contacts as { address: string; phone: string };
    const planA = recordA['care-plan'] as { goals: string[] };
    const forbidden = [
      REASON,
      'not been seen',
      demographicsB.name,
      contactsB.address,
      contactsB.phone,
      (recordA.demographics as { name: string }).name,
      (recordA.contacts as { address: string }).address,
      ...planA.goals,
      'Hidden Lane',
      'EB1 2AB',
      'person.a@example.org',
      B,
      A,
      'lead-1',
    ];
    for (const text of forbidden) expect(body).not.toContain(text);
    // B's letter is addressed to B alone, and its text holds no address either.
    const noticeB = await waitForNotice(
      (await notices()).find((n) => n.subjectId === B)?.decisionId ?? '',
      (n) => n.status === 'sent',
      'B’s letter sent',
    );
    const letter = noticeText(noticeB.id);
    expect(letter.whole.split('\n').slice(0, 4)).toEqual([
      'To: Flat 2',
      '    10 Hidden Lane',
      '    Eastbrook',
      '    EB1 2AB',
    ]);
    for (const text of ['Hidden Lane', demographicsB.name, contactsB.address, REASON, B]) {
      expect(letter.body).not.toContain(text);
    }
    // The log records the notice's status, never its text or where it went.
    await waitFor(
      async () => (await logEntries(`action=audit.notification.sent&subjectId=${A}`)).length > 0,
      10_000,
      'the sent notice in the log',
    );
    const logged = JSON.stringify(await logEntries(`subjectId=${A}`));
    expect(logged).not.toContain('person.a@example.org');
    expect(logged).not.toContain('Northshire County Council');
  });

  it('creates one notice per override however often its event arrives, and sends it once', async () => {
    const [{ envelope }] = (
      await superuser.query(
        `SELECT envelope FROM gateway.outbox
          WHERE type = 'gateway.decision.v1' AND envelope->'data'->>'decisionId' = $1`,
        [decisionA],
      )
    ).rows as { envelope: EventEnvelope }[];
    // The inbox stops a redelivered event before the handler, so deliver it straight to the
    // handler twice: the notice is unique on its decision.
    const consumer = audits[0].get(NoticeIntakeConsumer);
    const ds = audits[0].get(DataSource);
    for (let i = 0; i < 2; i++) await ds.transaction((tx) => consumer.apply([envelope], tx));
    // And publish the same decision again under a new event id, as a replaying producer
    // would: it passes the inbox, reaches the log, and still makes no second notice.
    const copyId = randomUUID();
    await superuser.query(
      `INSERT INTO gateway.outbox (event_id, topic, type, stream_id, stream_version, partition_key, envelope)
       SELECT $1::uuid, topic, type, stream_id, stream_version, partition_key,
              jsonb_set(envelope, '{id}', to_jsonb($2::text))
         FROM gateway.outbox WHERE event_id = $3`,
      [copyId, copyId, envelope.id],
    );
    await waitFor(
      async () =>
        (
          await superuser.query(
            `SELECT 1 FROM audit.inbox
              WHERE consumer_group = 'audit-service.notifications.gateway.events' AND event_id = $1`,
            [copyId],
          )
        ).rowCount === 1,
      20_000,
      'the copy consumed',
    );
    // Give both replicas' senders many rounds to send anything they wrongly thought due.
    await new Promise((r) => setTimeout(r, 1000));
    const forA = (await notices(`&subjectId=${A}`)).filter((n) => n.decisionId === decisionA);
    expect(forA).toHaveLength(1);
    expect(forA[0]).toMatchObject({ id: noticeA.id, status: 'sent', attempts: 1 });
    expect(channel.attempts.filter((n) => n.notificationId === noticeA.id)).toHaveLength(1);
    expect(readdirSync(outboxDir).filter((f) => f.startsWith(noticeA.id))).toEqual([
      `${noticeA.id}.txt`,
    ]);
    const [{ created, sent }] = (
      await superuser.query(
        `SELECT count(*) FILTER (WHERE type = 'audit.notification.created.v1')::int AS created,
                count(*) FILTER (WHERE type = 'audit.notification.sent.v1')::int AS sent
           FROM audit.outbox WHERE stream_id = $1`,
        [`notification-${noticeA.id}`],
      )
    ).rows;
    expect({ created, sent }).toEqual({ created: 1, sent: 1 });
    // Every notice went out exactly once across both replicas.
    const ids = channel.delivered.map((n) => n.notificationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows the notice on the person’s disclosures, for an override and for reads inside its window', async () => {
    // A read by the same lead inside an override's window owes no new notice: the window's
    // (the one closing last: the second override's) covers it.
    const windowRead = (
      await gw()
        .get(`/v1/subjects/${A}/record?purpose=safeguarding&categories=care-plan`)
        .set('Authorization', `Bearer ${lead}`)
        .expect(200)
    ).body.decisionId as string;
    const noticeA2 = await waitForNotice(decisionA2, (n) => n.status === 'sent', 'A’s second');
    let disclosures: { decisionId: string; breakGlass: boolean; notification: unknown }[] = [];
    await waitFor(
      async () => {
        disclosures = (
          await au()
            .get(`/v1/subjects/${A}/disclosures`)
            .set('Authorization', `Bearer ${self(A)}`)
            .expect(200)
        ).body;
        return disclosures.some((d) => d.decisionId === windowRead);
      },
      20_000,
      'the window read in the register',
    );
    const notificationOf = (decisionId: string) =>
      disclosures.find((d) => d.decisionId === decisionId)?.notification;
    expect(notificationOf(decisionA)).toEqual({
      id: noticeA.id,
      status: 'sent',
      sentAt: noticeA.sentAt,
    });
    expect(notificationOf(windowRead)).toEqual({
      id: noticeA2.id,
      status: 'sent',
      sentAt: noticeA2.sentAt,
    });
    expect(disclosures.find((d) => d.decisionId === windowRead)?.breakGlass).toBe(true);
    // Two overrides, two notices: the window read made none.
    expect((await notices(`&subjectId=${A}`)).map((n) => n.decisionId).sort()).toEqual(
      [decisionA, decisionA2].sort(),
    );
  });

  it('fails a notice for someone with no contact details, then holds it and the next override back until the review date', async () => {
    const first = await override(C);
    const failed = await waitForNotice(
      first.decisionId,
      (n) => n.status === 'failed',
      'C’s notice failed',
    );
    expect(failed).toMatchObject({
      failureReason: 'no-contact-details',
      attempts: 0,
      channel: null,
    });
    expect((await notices('&status=failed')).map((n) => n.id)).toContain(failed.id);

    const bad = await au()
      .post(`/v1/notifications/${failed.id}/deferral`)
      .set('Authorization', `Bearer ${guardian}`)
      .send({ reason: 'too short', reviewBy: '2020-01-01' })
      .expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'reason',
      'reviewBy',
    ]);
    const reviewBy = new Date(Date.now() + 10_000);
    const deferred = await au()
      .post(`/v1/notifications/${failed.id}/deferral`)
      .set('Authorization', `Bearer ${guardian}`)
      .send({
        reason: 'Telling the person now would alert the alleged abuser living with them',
        reviewBy: reviewBy.toISOString(),
      })
      .expect(200);
    expect(deferred.body).toMatchObject({
      id: failed.id,
      status: 'deferred',
      deferral: { reviewBy: reviewBy.toISOString(), deferredBy: 'cg-1', deferredWith: null },
      alsoDeferred: [],
    });
    // Contact details arriving do not release a deferred notice ...
    await setContact(C, { channel: 'sms', phone: '07700900123' });
    // ... and a second override while the deferral is in force is held back with it.
    const second = await override(C, 'assessments');
    const held = await waitForNotice(second.decisionId, () => true, 'C’s second notice');
    expect(held).toMatchObject({
      status: 'deferred',
      deferral: { id: deferred.body.deferral.id, deferredWith: failed.id },
    });
    // While deferred, the person is not told: not by a notice, nor their register or audit trail.
    const ownDisclosures = (
      await au()
        .get(`/v1/subjects/${C}/disclosures`)
        .set('Authorization', `Bearer ${self(C)}`)
        .expect(200)
    ).body as { notification: unknown }[];
    expect(ownDisclosures).toEqual([]);
    const staffView = (
      await au()
        .get(`/v1/subjects/${C}/disclosures`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body as { notification: { status: string } }[];
    expect(staffView.map((d) => d.notification.status)).toEqual(['deferred', 'deferred']);
    // Paged one at a time, newest first: the cursor leads to the older one, then ends. The
    // person's own page hides the deferred one but still leads on, so no later page is lost.
    const page = (cursor: string | null, token: string) =>
      au()
        .get(`/v1/subjects/${C}/disclosures?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
    const newest = await page(null, officer);
    const seqs = (staffView as unknown as { seq: number }[]).map((d) => d.seq);
    expect(newest.body.map((d: { seq: number }) => d.seq)).toEqual([seqs[0]]);
    expect(newest.headers['x-next-cursor']).toBe(String(seqs[0]));
    const older = await page(newest.headers['x-next-cursor'] as string, officer);
    expect(older.body.map((d: { seq: number }) => d.seq)).toEqual([seqs[1]]);
    expect(older.headers['x-next-cursor']).toBeUndefined();
    const ownFirst = await page(null, self(C));
    expect(ownFirst.body).toEqual([]);
    expect(ownFirst.headers['x-next-cursor']).toBe(String(seqs[0]));
    const trail = await au()
      .get(`/fhir/AuditEvent?patient=${C}`)
      .set('Authorization', `Bearer ${self(C)}`)
      .expect(200);
    expect(JSON.parse(trail.text).entry).toEqual([]);
    expect(Date.now()).toBeLessThan(reviewBy.getTime());
    expect(channel.attempts.filter((n) => n.subjectId === C)).toEqual([]);

    // After the review date both go, once each, to the number C gave.
    const sent = await Promise.all(
      [first.decisionId, second.decisionId].map((id) =>
        waitForNotice(id, (n) => n.status === 'sent', 'C’s notices sent after review'),
      ),
    );
    for (const n of sent) {
      expect(new Date(n.sentAt as string).getTime()).toBeGreaterThanOrEqual(reviewBy.getTime());
      expect(n.channel).toBe('sms');
      expect(noticeText(n.id).whole.split('\n')[0]).toBe('To: 07700900123');
    }
    expect(channel.deliveredTo(C)).toHaveLength(2);
    const reviews = (
      await au()
        .get('/v1/notifications/deferral-reviews')
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body as NotificationView[];
    expect(reviews.map((n) => [n.id, n.status, n.deferral?.reviewBy])).toEqual([
      [failed.id, 'sent', reviewBy.toISOString()],
      [held.id, 'sent', reviewBy.toISOString()],
    ]);
    expect(reviews.every((n) => n.releasedAt !== null)).toBe(true);
    // Now the person may see them.
    const after = await au()
      .get(`/fhir/AuditEvent?patient=${C}`)
      .set('Authorization', `Bearer ${self(C)}`)
      .expect(200);
    expect(JSON.parse(after.text).entry).toHaveLength(2);
    // Each change of status is in the log, with ids and codes only.
    // The officer's deferral, and the second notice created already held back.
    await waitFor(
      async () => (await logEntries(`action=audit.notification.sent&subjectId=${C}`)).length === 2,
      10_000,
      'C’s notices in the log',
    );
    const statuses = async (action: string) =>
      (await logEntries(`action=audit.notification.${action}&subjectId=${C}`)).map(
        (e) => e.outcome,
      );
    expect(await statuses('deferred')).toEqual(['deferred']);
    expect(await statuses('created')).toEqual(['pending', 'deferred']);
    expect(await statuses('failed')).toEqual(['failed']);
    expect(await statuses('due')).toEqual(['pending', 'pending']);
    expect(JSON.stringify(await logEntries(`subjectId=${C}`))).not.toContain('alleged abuser');
  });

  it('retries a notice the channel fails to deliver, with backoff, then sends it once', async () => {
    await setContact(D, { channel: 'email', email: 'person.d@example.org' });
    channel.failNext(D, 2);
    const { decisionId } = await override(D);
    const sent = await waitForNotice(decisionId, (n) => n.status === 'sent', 'D’s notice sent');
    expect(sent).toMatchObject({ attempts: 3, lastError: null, channel: 'email' });
    const tries = channel.attempts.filter((n) => n.subjectId === D);
    expect(tries).toHaveLength(3);
    expect(channel.deliveredTo(D)).toHaveLength(1);
    await waitFor(
      async () => (await logEntries(`action=audit.notification.sent&subjectId=${D}`)).length === 1,
      10_000,
      'D’s sent notice in the log',
    );
    expect(
      (await logEntries(`action=audit.notification.retry-scheduled&subjectId=${D}`)).length,
    ).toBe(2);
    // A notice that exhausts its attempts is failed, and says why.
    await setContact(E, { channel: 'email', email: 'person.e@example.org' });
    channel.failNext(E, 100);
    const exhausted = await waitForNotice(
      (await override(E)).decisionId,
      (n) => n.status === 'failed',
      'E’s notice failed',
    );
    expect(exhausted).toMatchObject({
      failureReason: 'attempts-exhausted',
      attempts: 5,
      lastError: 'test-outage',
    });
    channel.failNext(E, 0);
  });

  it('refuses to defer a sent notice (409), an unknown one (404) or a malformed id (400), and checks roles', async () => {
    const body = { reason: 'Investigation by the police is ongoing', reviewBy: '2099-01-01' };
    const sent = await au()
      .post(`/v1/notifications/${noticeA.id}/deferral`)
      .set('Authorization', `Bearer ${officer}`)
      .send(body)
      .expect(409);
    expect(sent.body.error).toBe('NOTIFICATION_ALREADY_SENT');
    expect((await noticeOf(decisionA))?.status).toBe('sent');
    const unknown = await au()
      .post(`/v1/notifications/${randomUUID()}/deferral`)
      .set('Authorization', `Bearer ${officer}`)
      .send(body)
      .expect(404);
    expect(unknown.body.error).toBe('NOTIFICATION_NOT_FOUND');
    await au()
      .post('/v1/notifications/not-a-uuid/deferral')
      .set('Authorization', `Bearer ${officer}`)
      .send(body)
      .expect(400);
    await au()
      .post(`/v1/notifications/${noticeA.id}/deferral`)
      .set('Authorization', `Bearer ${worker}`)
      .send(body)
      .expect(403);
    await au()
      .get('/v1/notifications')
      .set('Authorization', `Bearer ${self(A)}`)
      .expect(403);
    const badQuery = await au()
      .get('/v1/notifications?status=lost&limit=0')
      .set('Authorization', `Bearer ${officer}`)
      .expect(400);
    expect(badQuery.body.details.map((d: { field: string }) => d.field)).toEqual([
      'status',
      'limit',
    ]);
    const page = await au()
      .get('/v1/notifications?limit=2')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(page.body).toHaveLength(2);
    const rest = await au()
      .get(`/v1/notifications?limit=1000&cursor=${page.headers['x-next-cursor']}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect([...page.body, ...rest.body].map((n: NotificationView) => n.id)).toEqual(
      (await notices()).map((n) => n.id),
    );
  });

  it('serves the person’s audit trail as FHIR AuditEvents (IHE BALP shape)', async () => {
    // A refused read shows as a failed read.
    await gw()
      .get(`/v1/subjects/${A}/record?purpose=direct-care&categories=financial`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(403);
    let bundle: {
      resourceType: string;
      type: string;
      entry: { fullUrl: string; resource: Record<string, unknown> & { id: string } }[];
    } = { resourceType: '', type: '', entry: [] };
    await waitFor(
      async () => {
        const res = await au()
          .get(`/fhir/AuditEvent?patient=${A}`)
          .set('Authorization', `Bearer ${officer}`)
          .expect(200);
        expect(res.headers['content-type']).toContain('application/fhir+json');
        bundle = JSON.parse(res.text);
        return bundle.entry.some((e) => e.resource.outcome === '4');
      },
      20_000,
      'A’s refused read',
    );
    // One AuditEvent per access entry in the log: both overrides (and the copy of the first),
    // the read inside the window and the refusal.
    const [{ accesses }] = (
      await superuser.query(
        `SELECT count(*)::int AS accesses FROM audit.entries
          WHERE subject_id = $1 AND action IN ('record.disclosed', 'record.denied', 'access.decided')`,
        [A],
      )
    ).rows;
    expect(accesses).toBe(5);
    expect(bundle.entry).toHaveLength(accesses);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const events = bundle.entry.map((e) => e.resource);
    const overrideEvent = events.find((e) =>
      JSON.stringify(e.entity).includes(`urn:uuid:${decisionA}`),
    ) as Record<string, unknown>;
    expect(overrideEvent).toMatchObject({
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      outcome: '0',
      agent: [
        {
          type: { coding: [{ code: 'IRCP' }] },
          role: [{ coding: [{ code: 'safeguarding_lead' }] }],
          who: { reference: '#requester' },
          requestor: true,
        },
      ],
      contained: [
        {
          resourceType: 'PractitionerRole',
          practitioner: { identifier: { value: 'lead-1' } },
          organization: {
            identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'X26' },
          },
        },
      ],
      source: { observer: { identifier: { value: 'sharing-gateway' } } },
      entity: expect.arrayContaining([
        expect.objectContaining({
          what: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: A } },
          role: expect.objectContaining({ code: '1', display: 'Patient' }),
        }),
      ]),
      purposeOfEvent: expect.arrayContaining([
        { coding: [{ system: 'urn:care-consent-ledger:purpose-of-use', code: 'safeguarding' }] },
        expect.objectContaining({ coding: [expect.objectContaining({ code: 'BTG' })] }),
      ]),
    });
    const refused = events.find((e) => e.outcome === '4') as Record<string, unknown>;
    expect(refused).toMatchObject({
      action: 'R',
      outcomeDesc: expect.stringContaining('financial'),
    });
    // Newest first, ids are the log's event ids.
    expect(bundle.entry[0].resource).toBe(refused);
    expect(bundle.entry.every((e) => e.fullUrl === `urn:uuid:${e.resource.id}`)).toBe(true);

    // The person sees the same accesses, by role and organisation but not the staff member.
    const own = await au()
      .get(`/fhir/AuditEvent?patient=https://fhir.nhs.uk/Id/nhs-number|${A}&_count=2`)
      .set('Authorization', `Bearer ${self(A)}`)
      .expect(200);
    const ownBundle = JSON.parse(own.text);
    expect(ownBundle.entry).toHaveLength(2);
    expect(own.text).not.toContain('lead-1');
    expect(ownBundle.link[1]).toMatchObject({ relation: 'next' });
    const next = await au()
      .get(ownBundle.link[1].url)
      .set('Authorization', `Bearer ${self(A)}`)
      .expect(200);
    expect(JSON.parse(next.text).entry[0].resource.id).toBe(bundle.entry[2].resource.id);

    await au()
      .get(`/fhir/AuditEvent?patient=${A}`)
      .set('Authorization', `Bearer ${self(B)}`)
      .expect(403);
    await au()
      .get(`/fhir/AuditEvent?patient=${A}`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(403);
    const bad = await au()
      .get('/fhir/AuditEvent?patient=123')
      .set('Authorization', `Bearer ${officer}`)
      .expect(400);
    expect(bad.body.details).toEqual([
      { field: 'patient', problem: 'patient must be a valid NHS number' },
    ]);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await au().get('/docs-json').expect(200)).body as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/notifications',
        '/v1/notifications/deferral-reviews',
        '/v1/notifications/{id}',
        '/v1/notifications/{id}/deferral',
        '/fhir/AuditEvent',
      ]),
    );
    expect(existsSync(outboxDir)).toBe(true);
  });
});
