import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import type { Logger, Role } from '#common';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { CONFIDENTIALITY_CSV_COLUMNS } from '../../apps/audit-service/src/reports/confidentiality/confidentiality.controller';
import {
  isOutOfHours,
  WEEKDAYS,
  type ConfidentialityFlag,
  type WorkingTime,
} from '../../apps/audit-service/src/reports/confidentiality/flags';
import { FLOWS_CSV_COLUMNS } from '../../apps/audit-service/src/reports/information-flows/information-flows.controller';
import { RECERTIFICATION_CSV_COLUMNS } from '../../apps/audit-service/src/reports/recertification/recertification.controller';
import { bootAudit } from '../support/audit-app';
import { bootGateway } from '../support/gateway-app';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(180_000);

// People (valid NHS numbers): P1 has a worker and a hospital practitioner; P2 shares a surname
// with their worker and works for the trust; P3 works for the council; P4 is seen very often.
const P1 = '9434765900';
const P2 = '9434765978';
const P3 = '9434766044';
const P4 = '9434766117';
const DAY_MS = 86_400_000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const TODAY = dateIn(0);
const token = (sub: string, roles: Role[], org = 'X26') =>
  tokenFor(testDataDir(), { sub, org, roles });
const admin = token('admin-1', ['admin', 'ig_officer']);
const officer = token('ig-1', ['ig_officer']);
const guardian = token('cg-1', ['caldicott_guardian']);
const sw = (n: number) => token(`sw-${n}`, ['social_worker']);
const practitioner = token('pr-1', ['practitioner'], 'RYJ');

// Audit instance A counts every hour of every day as working time, so only a bank holiday puts
// an access out of hours; instance B's working day is one minute long. Both flag unusual volume
// above 5 accesses a day (the default floor of 20 would need too many requests here).
const ALL_DAY: WorkingTime = {
  timeZone: 'Europe/London',
  startMinute: 0,
  endMinute: 24 * 60,
  days: WEEKDAYS,
};
const ONE_MINUTE: WorkingTime = { ...ALL_DAY, endMinute: 1 };
const REPORT_ENV = {
  REPORT_WORKING_DAYS: WEEKDAYS.join(','),
  REPORT_VOLUME_FLOOR: '5',
  RECORD_HOLDER_ODS: 'X26',
};

interface Access {
  name: string;
  decisionId: string;
  /** Flags the scenario gives it, out-of-hours aside (that depends on when the test runs). */
  flags: ConfidentialityFlag[];
}

describe('audit service: IG reports from real accesses through the gateway', () => {
  let db: { url: string; drop: () => Promise<void> };
  let consent: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  let audit: NestFastifyApplication;
  let auditNight: NestFastifyApplication;
  let superuser: Client;
  const gw = () => request(gateway.getHttpServer());
  const au = () => request(audit.getHttpServer());
  const accesses: Access[] = [];
  let seqOf: Map<string, { seq: number; at: string }>;
  let before: string;
  let keyDir: string | undefined;

  /** Reads a record through the gateway's proxy, as an integration would. */
  const read = async (
    name: string,
    who: string,
    subjectId: string,
    categories: string,
    status: 200 | 403,
    flags: ConfidentialityFlag[] = [],
  ) => {
    const res = await gw()
      .get(`/v1/subjects/${subjectId}/record?purpose=direct-care&categories=${categories}`)
      .set('Authorization', `Bearer ${who}`)
      .expect(status);
    accesses.push({ name, decisionId: res.body.decisionId, flags });
    return res.body;
  };

  const report = async (app: NestFastifyApplication, query = '') =>
    (
      await request(app.getHttpServer())
        .get(`/v1/reports/confidentiality${query}`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body as { seq: number; flags: ConfidentialityFlag[]; [field: string]: unknown }[];

  /** What the report must hold: every access with a flag, in log order. */
  const expected = (working: WorkingTime) =>
    accesses
      .map((a) => {
        const { seq, at } = seqOf.get(a.decisionId)!;
        const flags = new Set<ConfidentialityFlag>(a.flags);
        if (isOutOfHours(new Date(at), working)) flags.add('out-of-hours');
        const order: ConfidentialityFlag[] = [
          'no-relationship',
          'out-of-hours',
          'unusual-volume',
          'colleague-record',
          'same-surname',
          'denied-attempt',
        ];
        return { seq, flags: order.filter((f) => flags.has(f)) };
      })
      .filter((r) => r.flags.length > 0)
      .sort((a, b) => a.seq - b.seq);

  beforeAll(async () => {
    db = await createTestDatabase('auditreports');
    ({ app: consent } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      env: { TRANSPORT_POLL_INTERVAL_MS: '20' },
      appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
    }));
    gateway = await bootGateway(db.url);
    audit = await bootAudit(db.url, { ...REPORT_ENV, REPORT_WORKING_HOURS: '00:00-24:00' });
    // B also holds a surname key of its own, as a misconfigured replica would.
    keyDir = mkdtempSync(join(tmpdir(), 'surname-key-'));
    writeFileSync(join(keyDir, 'key'), randomBytes(32).toString('base64'));
    auditNight = await bootAudit(db.url, {
      ...REPORT_ENV,
      REPORT_WORKING_HOURS: '00:00-00:01',
      REPORT_SURNAME_KEY_FILE: join(keyDir, 'key'),
    });
    superuser = new Client({ connectionString: db.url });
    await superuser.connect();

    const put = (path: string, body: object) =>
      gw().put(path).set('Authorization', `Bearer ${admin}`).send(body).expect(200);
    await put('/v1/organisations/X26', { name: 'Council', kind: 'local-authority', country: 'GB' });
    await put('/v1/organisations/RYJ', { name: 'Hospital', kind: 'nhs-trust', country: 'GB' });
    const user = (id: string, org: string, role: Role, accountEndsOn?: string) =>
      put(`/v1/users/${id}`, {
        org,
        roles: [role],
        teams: [],
        igTrainingCompletedOn: TODAY,
        ...(accountEndsOn ? { accountEndsOn } : {}),
      });
    for (const n of [1, 2, 3, 4]) await user(`sw-${n}`, 'X26', 'social_worker');
    await user('pr-1', 'RYJ', 'practitioner');
    await user('hsg-1', 'X26', 'practitioner', dateIn(10));
    await user('later-1', 'X26', 'practitioner', dateIn(40));
    // Set twice: only the latest change counts, and it removed the end date.
    await user('moved-1', 'X26', 'practitioner', dateIn(5));
    await user('moved-1', 'X26', 'practitioner');
    await gw()
      .post('/v1/access-grants')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        userId: 'hsg-1',
        purpose: 'direct-care',
        validUntil: new Date(Date.now() + 365 * DAY_MS).toISOString(),
        approvedBy: 'mgr-1',
      })
      .expect(201);
    await gw()
      .post('/v1/agreements')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        title: 'Direct care across the council and the trust',
        parties: ['kind:local-authority', 'kind:nhs-trust'],
        roles: ['social_worker', 'practitioner'],
        purposes: ['direct-care'],
        dataCategories: ['care-plan', 'assessments'],
        legalBasis: { article6: 'UK-GDPR-6-1-e', article9: 'UK-GDPR-9-2-h', statutes: [] },
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        status: 'active',
      })
      .expect(201);
    for (const [userId, subjectId] of [
      ['sw-1', P1],
      ['sw-1', P3],
      ['sw-3', P2],
      ['sw-4', P4],
      ['pr-1', P1],
    ]) {
      await gw()
        .post('/v1/relationships')
        .set('Authorization', `Bearer ${admin}`)
        .send({ userId, subjectId, type: 'allocated-worker', validFrom: '2026-01-01T00:00:00Z' })
        .expect(201);
    }

    // The IG registers: who is also staff, and surnames (kept only as keyed hashes).
    const register = (path: string, body: object) =>
      au().put(path).set('Authorization', `Bearer ${officer}`).send(body).expect(200);
    await register(`/v1/reports/staff-subjects/${P3}`, { org: 'X26' });
    await register(`/v1/reports/staff-subjects/${P2}`, { org: 'RYJ', userId: 'pr-9' });
    await register('/v1/reports/surnames/user/sw-3', { surname: "O'Brien" });
    await register(`/v1/reports/surnames/subject/${P2}`, { surname: 'OBRIEN ' });
    await register('/v1/reports/surnames/user/sw-1', { surname: 'Ashworth' });
    await register(`/v1/reports/surnames/subject/${P1}`, { surname: 'Ashton' });

    // Decide only on a consent replica known to be current (a stale one denies everything).
    await waitFor(
      async () =>
        (
          await superuser.query(
            `SELECT 1 FROM gateway.consent_replica_status WHERE caught_up_at > now() - interval '1 second'`,
          )
        ).rowCount === 1,
      20_000,
      'the consent replica to be current',
    );
    before = new Date(Date.now() - 1000).toISOString();

    await read('worker reads their person', sw(1), P1, 'care-plan', 200);
    const partial = await read('worker asks for more', sw(1), P1, 'care-plan,financial', 200);
    expect(partial.outcome).toBe('partial');
    await read('no relationship', sw(2), P1, 'care-plan', 403, [
      'no-relationship',
      'denied-attempt',
    ]);
    await read('no agreement', sw(1), P1, 'financial', 403, ['denied-attempt']);
    await read('colleague', sw(1), P3, 'care-plan', 200, ['colleague-record']);
    await read('same surname', sw(3), P2, 'care-plan', 200, ['same-surname']);
    await read('hospital practitioner', practitioner, P1, 'care-plan', 200);
    for (let i = 1; i <= 6; i++) {
      await read(`busy day ${i}`, sw(4), P4, 'care-plan', 200, ['unusual-volume']);
    }
    const decision = await gw()
      .post('/v1/decisions')
      .set('Authorization', `Bearer ${sw(2)}`)
      .send({ subjectId: P2, purposeOfUse: 'direct-care', dataCategories: ['care-plan'] })
      .expect(200);
    expect(decision.body.outcome).toBe('deny');
    accesses.push({
      name: 'decision without relationship',
      decisionId: decision.body.decisionId,
      flags: ['no-relationship', 'denied-attempt'],
    });

    await waitFor(
      async () => {
        const { rows } = await superuser.query(
          `SELECT count(*) FILTER (WHERE action IN ('record.disclosed', 'record.denied', 'access.decided'))::int AS accesses,
                  count(*) FILTER (WHERE action IN ('audit.surname.set', 'audit.staff-subject.set'))::int AS registers
             FROM audit.entries`,
        );
        return rows[0].accesses === accesses.length && rows[0].registers === 6;
      },
      20_000,
      'every access and register change in the log',
    );
    const { rows } = await superuser.query(
      `SELECT seq::int AS seq, entry->>'at' AS at, entry->'details'->>'decisionId' AS "decisionId"
         FROM audit.entries WHERE entry->'details'->>'decisionId' IS NOT NULL`,
    );
    seqOf = new Map(rows.map((r) => [r.decisionId, { seq: r.seq, at: r.at }]));
  });

  afterAll(async () => {
    await superuser?.end();
    await auditNight?.close();
    await audit?.close();
    await gateway?.close();
    await consent?.close();
    await db?.drop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it('flags each access that needs a second look, and only those, by seq', async () => {
    const rows = await report(audit);
    expect(rows.map((r) => ({ seq: r.seq, flags: r.flags }))).toEqual(expected(ALL_DAY));
    // Unless today is a bank holiday, instance A flags exactly the scenario's accesses.
    if (!isOutOfHours(new Date(), ALL_DAY)) {
      // No relationship, no agreement, colleague, same surname, the busy day's 6, the decision.
      expect(rows).toHaveLength(1 + 1 + 1 + 1 + 6 + 1);
    }
    const attempt = accesses.find((a) => a.name === 'no relationship')!;
    expect(rows.find((r) => r.seq === seqOf.get(attempt.decisionId)!.seq)).toMatchObject({
      actor: { userId: 'sw-2', org: 'X26', role: 'social_worker' },
      subjectId: P1,
      action: 'record.denied',
      outcome: 'deny',
      purpose: 'direct-care',
      categories: ['care-plan'],
      needToKnow: 'none',
      recipientOrg: 'X26',
      decisionId: attempt.decisionId,
      deniedReasons: ['no-legitimate-relationship'],
    });
    const colleague = accesses.find((a) => a.name === 'colleague')!;
    expect(rows.find((r) => r.decisionId === colleague.decisionId)).toMatchObject({
      action: 'record.disclosed',
      outcome: 'permit',
      subjectId: P3,
      needToKnow: 'relationship',
    });
  });

  it('flags out-of-hours accesses by the configured working time', async () => {
    const rows = await report(auditNight);
    expect(rows.map((r) => ({ seq: r.seq, flags: r.flags }))).toEqual(expected(ONE_MINUTE));
    expect(rows.filter((r) => r.flags.includes('out-of-hours')).length).toBeGreaterThan(0);
  });

  it('reports only the period asked for, and lets the Caldicott Guardian read it', async () => {
    expect(await report(audit, `?to=${before}`)).toEqual([]);
    expect(await report(audit, `?from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    const all = await report(audit, `?from=${before}&to=${new Date().toISOString()}`);
    expect(all.map((r) => r.seq)).toEqual(expected(ALL_DAY).map((r) => r.seq));
    await au()
      .get('/v1/reports/confidentiality')
      .set('Authorization', `Bearer ${guardian}`)
      .expect(200);
    const refused = await au()
      .get('/v1/reports/confidentiality')
      .set('Authorization', `Bearer ${sw(1)}`)
      .expect(403);
    expect(refused.body.error).toBe('ROLE_NOT_PERMITTED');
  });

  it('exports the confidentiality report as CSV', async () => {
    const csv = await au()
      .get('/v1/reports/confidentiality')
      .set('Authorization', `Bearer ${officer}`)
      .set('Accept', 'text/csv')
      .expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'seq,at,actorId,actorOrg,actorRole,subjectId,action,outcome,purpose,categories,flags,needToKnow,recipientOrg,decisionId,deniedReasons',
    );
    expect(lines[0]).toBe(CONFIDENTIALITY_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(expected(ALL_DAY).length + 1);
    const attempt = accesses.find((a) => a.name === 'no relationship')!;
    const line = lines.find((l) => l.includes(attempt.decisionId))!;
    expect(line).toContain(`,sw-2,X26,social_worker,${P1},record.denied,deny,direct-care,`);
    expect(line).toContain('""no-relationship""');
    expect(line).toContain('""denied-attempt""');
  });

  it('lists information flows from the record holder to each recipient, with counts', async () => {
    const flows = await au()
      .get('/v1/reports/information-flows')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    const agreementId = (
      await superuser.query(`SELECT agreement_id::text AS id FROM gateway.agreements`)
    ).rows[0].id;
    const basis = {
      article6: 'UK-GDPR-6-1-e',
      article9: 'UK-GDPR-9-2-h',
      statutes: [],
      agreementIds: [agreementId],
      source: 'agreement',
    };
    // Disclosed: to the council's own staff 1 + 1 (the partial) + 1 (colleague) + 1 (surname)
    // + 6 (busy day); to the trust 1. Denials and decisions released nothing.
    expect(flows.body).toEqual([
      {
        fromOrg: 'X26',
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 1,
      },
      {
        fromOrg: 'X26',
        toOrg: 'X26',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 10,
      },
    ]);
    const none = await au()
      .get(`/v1/reports/information-flows?to=${before}`)
      .set('Authorization', `Bearer ${guardian}`)
      .expect(200);
    expect(none.body).toEqual([]);
    const csv = await au()
      .get('/v1/reports/information-flows')
      .set('Authorization', `Bearer ${officer}`)
      .set('Accept', 'text/csv')
      .expect(200);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'fromOrg,toOrg,purpose,categories,article6,article9,statutes,agreementIds,basisSource,count',
    );
    expect(lines[0]).toBe(FLOWS_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      `X26,RYJ,direct-care,"[""care-plan""]",UK-GDPR-6-1-e,UK-GDPR-9-2-h,[],"[""${agreementId}""]",agreement,1`,
    );
  });

  it('lists accounts ending within 30 days and grants due for recertification', async () => {
    const now = await au()
      .get('/v1/reports/recertification')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(now.body).toEqual([
      expect.objectContaining({
        reason: 'account-ends-soon',
        userId: 'hsg-1',
        org: 'X26',
        accountEndsOn: dateIn(10),
        grantId: null,
      }),
    ]);
    // Two months and a day on, the grant nobody has reconfirmed is due; hsg-1's account has
    // ended by then (no longer listed), later-1's has too.
    const asOf = new Date(Date.now() + 62 * DAY_MS).toISOString();
    const later = await au()
      .get(`/v1/reports/recertification?asOf=${asOf}`)
      .set('Authorization', `Bearer ${guardian}`)
      .expect(200);
    const grant = (
      await superuser.query(
        `SELECT grant_id::text AS id, recertified_at FROM gateway.access_grants`,
      )
    ).rows[0];
    expect(later.body).toEqual([
      expect.objectContaining({
        reason: 'grant-recertification-due',
        userId: 'hsg-1',
        grantId: grant.id,
        purpose: 'direct-care',
        approvedBy: 'mgr-1',
      }),
    ]);
    const due = new Date(later.body[0].recertificationDueAt).getTime();
    const recertified = new Date(later.body[0].lastRecertifiedAt).getTime();
    expect(Math.abs(recertified - grant.recertified_at.getTime())).toBeLessThan(5_000);
    expect(due - recertified).toBeGreaterThanOrEqual(59 * DAY_MS);
    expect(due - recertified).toBeLessThanOrEqual(62 * DAY_MS);
    // Looking back before any user was registered, there is nothing to recertify.
    const past = await au()
      .get('/v1/reports/recertification?asOf=2026-01-01')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(past.body).toEqual([]);
    const csv = await au()
      .get('/v1/reports/recertification')
      .set('Authorization', `Bearer ${officer}`)
      .set('Accept', 'text/csv')
      .expect(200);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'reason,userId,org,accountEndsOn,grantId,purpose,validUntil,approvedBy,lastRecertifiedAt,recertificationDueAt,seq',
    );
    expect(lines[0]).toBe(RECERTIFICATION_CSV_COLUMNS.join(','));
    expect(lines[1]).toMatch(new RegExp(`^account-ends-soon,hsg-1,X26,${dateIn(10)},,,,,,,\\d+$`));
  });

  it('answers bad queries with a 400 naming the field', async () => {
    const bad = async (path: string) =>
      (await au().get(path).set('Authorization', `Bearer ${officer}`).expect(400)).body as {
        error: string;
        details: { field: string; problem: string }[];
      };
    const notIso = await bad('/v1/reports/confidentiality?from=yesterday');
    expect(notIso.error).toBe('VALIDATION_FAILED');
    expect(notIso.details).toEqual([
      { field: 'from', problem: expect.stringContaining('ISO 8601') },
    ]);
    expect((await bad('/v1/reports/confidentiality?from=2026-02-30')).details[0].field).toBe(
      'from',
    );
    expect(
      (await bad('/v1/reports/confidentiality?from=2026-11-02&to=2026-11-01')).details,
    ).toEqual([{ field: 'to', problem: 'to must not be before from' }]);
    expect(
      (await bad('/v1/reports/confidentiality?form=2026-11-01&to=soon')).details.map(
        (d) => d.field,
      ),
    ).toEqual(['form', 'to']);
    expect((await bad('/v1/reports/information-flows?to=2026-11-01T09:00')).details[0].field).toBe(
      'to',
    );
    expect((await bad('/v1/reports/information-flows?limit=5')).details[0].field).toBe('limit');
    expect((await bad('/v1/reports/recertification?asOf=never')).details[0].field).toBe('asOf');
    expect((await bad('/v1/reports/recertification?from=2026-11-01')).details[0].field).toBe(
      'from',
    );
  });

  describe('the IG registers', () => {
    it('never hold or log a surname, only that one was recorded', async () => {
      const res = await au()
        .put('/v1/reports/surnames/user/sw-4')
        .set('Authorization', `Bearer ${officer}`)
        .send({ surname: 'Fairweather' })
        .expect(200);
      expect(res.body).toMatchObject({ kind: 'user', id: 'sw-4', recorded: true, version: 1 });
      expect(JSON.stringify(res.body)).not.toMatch(/fairweather/i);
      const again = await au()
        .put('/v1/reports/surnames/user/sw-4')
        .set('Authorization', `Bearer ${officer}`)
        .send({ surname: 'Fairweather-Smith' })
        .expect(200);
      expect(again.body.version).toBe(2);
      const stored = await superuser.query(
        `SELECT kind, id, surname_hmac FROM audit.report_surnames`,
      );
      expect(stored.rows).toHaveLength(5);
      for (const row of stored.rows) expect(row.surname_hmac).toHaveLength(32);
      const everything = JSON.stringify(
        (
          await superuser.query(
            `SELECT (SELECT json_agg(entry) FROM audit.entries) AS log,
                    (SELECT json_agg(envelope) FROM audit.outbox) AS outbox,
                    (SELECT json_agg(s) FROM audit.report_surnames s) AS register`,
          )
        ).rows[0],
      );
      for (const name of ['Brien', 'BRIEN', 'Ashworth', 'Ashton', 'Fairweather']) {
        expect(everything).not.toContain(name);
      }
      await waitFor(
        async () =>
          (
            await superuser.query(
              `SELECT 1 FROM audit.entries WHERE action = 'audit.surname.set' AND entry->'details'->>'userId' = 'sw-4'`,
            )
          ).rowCount === 2,
        10_000,
        'the surname changes in the log',
      );
      const [logged] = (
        await superuser.query(
          `SELECT entry FROM audit.entries WHERE action = 'audit.surname.set' AND subject_id = $1`,
          [P2],
        )
      ).rows;
      expect(logged.entry).toMatchObject({
        actor: { userId: 'ig-1', role: 'ig_officer' },
        subjectId: P2,
        details: expect.objectContaining({ kind: 'subject' }),
      });
    });

    it('refuse a surname hashed under another key than the register’s', async () => {
      const res = await request(auditNight.getHttpServer())
        .put('/v1/reports/surnames/user/sw-2')
        .set('Authorization', `Bearer ${officer}`)
        .send({ surname: 'Ashworth' })
        .expect(503);
      expect(res.body.error).toBe('SURNAME_KEY_MISMATCH');
      expect(
        (await superuser.query(`SELECT 1 FROM audit.report_surnames WHERE id = 'sw-2'`)).rowCount,
      ).toBe(0);
    });

    it('record staff markings and log them', async () => {
      const res = await au()
        .put(`/v1/reports/staff-subjects/${P4}`)
        .set('Authorization', `Bearer ${officer}`)
        .send({ org: 'RYJ', userId: 'pr-7' })
        .expect(200);
      expect(res.body).toMatchObject({ subjectId: P4, org: 'RYJ', userId: 'pr-7', version: 1 });
      await waitFor(
        async () =>
          (
            await superuser.query(
              `SELECT 1 FROM audit.entries WHERE action = 'audit.staff-subject.set' AND subject_id = $1`,
              [P4],
            )
          ).rowCount === 1,
        10_000,
        'the marking in the log',
      );
    });

    it('refuse bad input with a 400 naming the field, and anyone but an IG officer', async () => {
      const put = (path: string, body: object, who = officer) =>
        au().put(path).set('Authorization', `Bearer ${who}`).send(body);
      const fields = async (path: string, body: object) => {
        const res = await put(path, body).expect(400);
        return [...new Set(res.body.details.map((d: { field: string }) => d.field))];
      };
      expect(await fields('/v1/reports/surnames/person/sw-1', { surname: 'Smith' })).toEqual([
        'kind',
      ]);
      expect(await fields('/v1/reports/surnames/subject/1234567890', { surname: 'Smith' })).toEqual(
        ['id'],
      );
      expect(await fields('/v1/reports/surnames/user/sw%201', { surname: 'Smith' })).toEqual([
        'id',
      ]);
      expect(await fields('/v1/reports/surnames/user/sw-1', { surname: "'-" })).toEqual([
        'surname',
      ]);
      expect(await fields('/v1/reports/surnames/user/sw-1', {})).toEqual(['surname']);
      expect(
        await fields('/v1/reports/surnames/user/sw-1', { surname: 'Smith', name: 'x' }),
      ).toEqual(['name']);
      expect(await fields('/v1/reports/staff-subjects/123', { org: 'X26' })).toEqual(['nhsNumber']);
      expect(await fields(`/v1/reports/staff-subjects/${P1}`, { org: 'x26' })).toEqual(['org']);
      await put('/v1/reports/surnames/user/sw-1', { surname: 'Smith' }, sw(1)).expect(403);
      await put(`/v1/reports/staff-subjects/${P1}`, { org: 'X26' }, guardian).expect(403);
    });
  });
});
