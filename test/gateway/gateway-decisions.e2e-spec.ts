import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Logger, Role } from '#common';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootGateway } from '../support/gateway-app';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';

jest.setTimeout(180_000);

// Valid NHS numbers (modulus 11), one person per scenario so scenarios do not interfere.
const P = {
  main: '9434765919',
  refused: '9434765870',
  withdrawn: '9434765862',
  expired: '9434765854',
  objection: '9434765846',
  optOut: '9434765838',
  breakGlass: '9434765811',
  replay: '9434765803',
  waiting: '9434765773',
} as const;

const TODAY = new Date().toISOString().slice(0, 10);
const token = (sub: string, roles: Role[], org = 'X26', teams: string[] = []) =>
  tokenFor(testDataDir(), { sub, org, roles, teams });
const admin = token('admin-1', ['admin', 'ig_officer']);
const officer = token('ig-1', ['ig_officer']);
const worker = token('sw-1', ['social_worker'], 'X26', ['adults-north']);
const housing = token('house-1', ['practitioner'], 'HOUSE1');

describe('sharing gateway decisions through HTTP, with the consent service on the same database', () => {
  let db: { url: string; drop: () => Promise<void> };
  let consent: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  let ds: DataSource;
  let source: Server;
  let sourceRequests = 0;
  let sourceFails = false;
  const gw = () => request(gateway.getHttpServer());
  const cs = () => request(consent.getHttpServer());
  const put = (path: string, body: object) =>
    gw().put(path).set('Authorization', `Bearer ${admin}`).send(body);
  const post = (path: string, body: object, bearer = admin) =>
    gw().post(path).set('Authorization', `Bearer ${bearer}`).send(body);
  const decide = (body: object, bearer = worker) => post('/v1/decisions', body, bearer);
  const codesOf = (body: { denied: { category: string; reasons: { code: string }[] }[] }) =>
    Object.fromEntries(body.denied.map((d) => [d.category, d.reasons.map((r) => r.code)]));
  const relate = (userId: string, subjectId: string) =>
    post('/v1/relationships', {
      userId,
      subjectId,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    }).expect(201);
  const user = (userId: string, body: object) =>
    put(`/v1/users/${userId}`, {
      org: 'X26',
      roles: ['social_worker'],
      teams: [],
      igTrainingCompletedOn: TODAY,
      ...body,
    }).expect(200);
  /** Waits until the gateway's replica holds the person's stream up to `version`. */
  const replicaAt = async (subjectId: string, version: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const rows = await ds.query(
        `SELECT stream_version FROM gateway.consent_replica WHERE subject_id = $1`,
        [subjectId],
      );
      if (rows[0]?.stream_version >= version) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`replica did not reach ${subjectId}@${version}`);
  };
  const consentFor = (subjectId: string, body: object, bearer = worker) =>
    cs()
      .post(`/v1/subjects/${subjectId}/consents`)
      .set('Authorization', `Bearer ${bearer}`)
      .send({
        decision: 'granted',
        purposes: ['direct-care'],
        recipients: ['HOUSE1'],
        dataCategories: ['care-plan'],
        capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
        ...body,
      })
      .expect(201);

  beforeAll(async () => {
    source = createServer((_req, res) => {
      sourceRequests += 1;
      res.statusCode = sourceFails ? 500 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          categories: {
            demographics: { name: 'Test Person' },
            'care-plan': { goals: ['home'] },
            assessments: [{ type: 'needs' }],
            safeguarding: [{ type: 's42' }],
          },
        }),
      );
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    db = await createTestDatabase('gatewaydecide');
    ({ app: consent } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
    }));
    gateway = await bootGateway(db.url, {
      RECORD_SOURCE_URL: `http://127.0.0.1:${(source.address() as AddressInfo).port}`,
      CONSENT_MAX_STALENESS_MS: '1500',
    });
    ds = gateway.get(DataSource);
    for (const [ods, kind, country] of [
      ['X26', 'local-authority', 'GB'],
      ['RX1', 'nhs-trust', 'GB'],
      ['CARE1', 'care-provider', 'GB'],
      ['HOUSE1', 'housing', 'GB'],
      ['ABROAD1', 'other', 'US'],
    ]) {
      await put(`/v1/organisations/${ods}`, { name: `${ods} organisation`, kind, country }).expect(
        200,
      );
    }
    await user('sw-1', { teams: ['adults-north'] });
    await user('pr-1', { roles: ['practitioner'] });
    await user('lead-1', { roles: ['safeguarding_lead'] });
    await user('old-1', { igTrainingCompletedOn: '2024-01-01' });
    await user('ended-1', { accountEndsOn: '2025-12-31', igTrainingCompletedOn: '2025-06-01' });
    await user('admin-2', { roles: ['admin'] });
    await user('gp-1', { org: 'RX1', roles: ['practitioner'] });
    await user('care-1', { org: 'CARE1', roles: ['practitioner'] });
    await user('abroad-1', { org: 'ABROAD1', roles: ['practitioner'] });
    await user('house-1', { org: 'HOUSE1', roles: ['practitioner'] });
    const agreement = {
      title: 'Direct care and planning',
      parties: ['kind:local-authority', 'kind:nhs-trust', 'kind:other'],
      roles: ['social_worker', 'practitioner', 'safeguarding_lead'],
      purposes: ['direct-care', 'research', 'service-planning'],
      dataCategories: ['care-plan', 'assessments', 'demographics'],
      legalBasis: { article6: 'UK-GDPR-6-1-e', article9: 'UK-GDPR-9-2-h', statutes: [] },
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2030-01-01T00:00:00Z',
      status: 'active',
    };
    await post('/v1/agreements', agreement).expect(201);
    await post('/v1/agreements', {
      ...agreement,
      title: 'Housing support, with consent',
      parties: ['HOUSE1'],
      purposes: ['direct-care'],
      dataCategories: ['care-plan'],
      legalBasis: { article6: 'UK-GDPR-6-1-a', statutes: [] },
    }).expect(201);
    await post('/v1/agreements', {
      ...agreement,
      title: 'Care provider pilot (draft)',
      parties: ['CARE1'],
      status: 'draft',
    }).expect(201);
    for (const u of ['sw-1', 'old-1', 'ended-1', 'admin-2', 'gp-1', 'care-1', 'abroad-1'])
      await relate(u, P.main);
    for (const p of [P.refused, P.withdrawn, P.expired]) await relate('house-1', p);
    await post('/v1/relationships', {
      teamId: 'adults-north',
      subjectId: P.objection,
      type: 'care-team',
      validFrom: '2026-01-01T00:00:00Z',
    }).expect(201);
    await relate('sw-1', P.optOut);
  });

  afterAll(async () => {
    await gateway?.close();
    await consent?.close();
    await db?.drop();
    await new Promise((r) => source?.close(r));
  });

  const main = (categories: string[] = ['care-plan'], purposeOfUse = 'direct-care') => ({
    subjectId: P.main,
    purposeOfUse,
    dataCategories: categories,
  });

  it.each([
    ['requester-inactive', 'ended-1', ['social_worker']],
    ['training-expired', 'old-1', ['social_worker']],
    ['role-not-permitted', 'admin-2', ['admin']],
    ['no-legitimate-relationship', 'pr-1', ['practitioner']],
    ['agreement-not-active', 'care-1', ['practitioner']],
    ['outside-uk', 'abroad-1', ['practitioner']],
  ] as const)('denies with %s (requester %s)', async (code, userId, roles) => {
    const org = { 'care-1': 'CARE1', 'abroad-1': 'ABROAD1' }[userId as string] ?? 'X26';
    const res = await decide(main(), token(userId, [...roles], org)).expect(200);
    expect(res.body.outcome).toBe('deny');
    expect(codesOf(res.body)['care-plan']).toContain(code);
    expect(res.body.explanation).toEqual(expect.any(String));
  });

  it('denies with no-agreement and sensitive-not-named, permitting the rest (partial)', async () => {
    const res = await decide(main(['care-plan', 'financial', 'safeguarding'])).expect(200);
    expect(res.body.outcome).toBe('partial');
    expect(res.body.permitted).toEqual(['care-plan']);
    expect(codesOf(res.body)).toEqual({
      financial: ['no-agreement'],
      safeguarding: ['sensitive-not-named'],
    });
  });

  it('needs consent under a consent-based agreement: no-consent, then permitted', async () => {
    const body = {
      subjectId: P.refused,
      purposeOfUse: 'direct-care',
      dataCategories: ['care-plan'],
    };
    const before = await decide(body, housing).expect(200);
    expect(codesOf(before.body)['care-plan']).toEqual(['no-consent']);
    const refusal = await consentFor(P.refused, { decision: 'refused' });
    await replicaAt(P.refused, refusal.body.streamVersion);
    const refused = await decide(body, housing).expect(200);
    expect(codesOf(refused.body)['care-plan']).toContain('consent-refused');
    expect(refused.body.consentVersion).toBe(refusal.body.streamVersion);
  });

  it('denies with consent-withdrawn within 1 s of the withdrawal', async () => {
    const body = {
      subjectId: P.withdrawn,
      purposeOfUse: 'direct-care',
      dataCategories: ['care-plan'],
    };
    const granted = await consentFor(P.withdrawn, {});
    await replicaAt(P.withdrawn, granted.body.streamVersion);
    const permitted = await decide(body, housing).expect(200);
    expect(permitted.body).toMatchObject({ outcome: 'permit', permitted: ['care-plan'] });
    await cs()
      .post(`/v1/subjects/${P.withdrawn}/consents/${granted.body.consentId}/withdrawal`)
      .set('Authorization', `Bearer ${worker}`)
      .send({ reason: 'Changed their mind' })
      .expect(200);
    const withdrawnAt = Date.now();
    let res = await decide(body, housing).expect(200);
    while (res.body.outcome !== 'deny' && Date.now() - withdrawnAt < 5000) {
      await new Promise((r) => setTimeout(r, 25));
      res = await decide(body, housing).expect(200);
    }
    expect(Date.now() - withdrawnAt).toBeLessThan(1000);
    expect(codesOf(res.body)['care-plan']).toEqual(['consent-withdrawn']);
  });

  it('denies with consent-expired once the consent runs out, with no job to expire it', async () => {
    const body = {
      subjectId: P.expired,
      purposeOfUse: 'direct-care',
      dataCategories: ['care-plan'],
    };
    const until = new Date(Date.now() + 1500).toISOString();
    const granted = await consentFor(P.expired, { validUntil: until });
    await replicaAt(P.expired, granted.body.streamVersion);
    expect((await decide(body, housing).expect(200)).body.outcome).toBe('permit');
    await new Promise((r) => setTimeout(r, Date.parse(until) - Date.now() + 50));
    const res = await decide(body, housing).expect(200);
    expect(codesOf(res.body)['care-plan']).toEqual(['consent-expired']);
  });

  it('restricts sharing while an objection is pending and once upheld; overruled permits again', async () => {
    const body = {
      subjectId: P.objection,
      purposeOfUse: 'direct-care',
      dataCategories: ['care-plan', 'assessments'],
    };
    expect((await decide(body).expect(200)).body.outcome).toBe('permit');
    const raised = await cs()
      .post(`/v1/subjects/${P.objection}/objections`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        purposes: ['direct-care'],
        recipients: ['kind:local-authority'],
        dataCategories: ['care-plan'],
        reason: 'Does not want the council to see the care plan',
      })
      .expect(201);
    await replicaAt(P.objection, 1);
    const pending = await decide(body).expect(200);
    expect(pending.body).toMatchObject({ outcome: 'partial', permitted: ['assessments'] });
    expect(codesOf(pending.body)['care-plan']).toEqual(['objection-pending']);
    const guardian = token('cg-1', ['caldicott_guardian']);
    const decideObjection = (outcome: string) =>
      cs()
        .post(`/v1/subjects/${P.objection}/objections/${raised.body.objectionId}/decision`)
        .set('Authorization', `Bearer ${guardian}`)
        .send({ outcome, reason: 'Considered at the IG panel' });
    await decideObjection('upheld').expect(200);
    await replicaAt(P.objection, 2);
    expect(codesOf((await decide(body).expect(200)).body)['care-plan']).toEqual([
      'objection-upheld',
    ]);
    // A second objection, to assessments, restricts them while pending; overruled, it no longer does.
    const second = await cs()
      .post(`/v1/subjects/${P.objection}/objections`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        purposes: ['direct-care'],
        recipients: ['kind:local-authority'],
        dataCategories: ['assessments'],
        reason: 'Does not want assessments shared either',
      })
      .expect(201);
    await replicaAt(P.objection, 3);
    expect(codesOf((await decide(body).expect(200)).body).assessments).toEqual([
      'objection-pending',
    ]);
    await cs()
      .post(`/v1/subjects/${P.objection}/objections/${second.body.objectionId}/decision`)
      .set('Authorization', `Bearer ${guardian}`)
      .send({ outcome: 'overruled', reason: 'Needed for safe care; the person was told why' })
      .expect(200);
    await replicaAt(P.objection, 4);
    const overruled = await decide(body).expect(200);
    expect(overruled.body).toMatchObject({ outcome: 'partial', permitted: ['assessments'] });
  });

  it('applies the national data opt-out to research and planning only', async () => {
    await cs()
      .put(`/v1/subjects/${P.optOut}/national-opt-out`)
      .set('Authorization', `Bearer ${worker}`)
      .send({ optedOut: true })
      .expect(200);
    await replicaAt(P.optOut, 1);
    for (const purposeOfUse of ['research', 'service-planning']) {
      const res = await decide({
        subjectId: P.optOut,
        purposeOfUse,
        dataCategories: ['care-plan'],
      });
      expect(codesOf(res.body)['care-plan']).toEqual(['national-data-opt-out']);
    }
    const direct = await decide({
      subjectId: P.optOut,
      purposeOfUse: 'direct-care',
      dataCategories: ['care-plan'],
    });
    expect(direct.body.outcome).toBe('permit');
  });

  /**
   * Holds a transaction open (`hold` says what it does first) while a consent change for another
   * person commits: past CONSENT_MAX_STALENESS_MS the main person's consent-dependent category
   * is denied as stale, and once the transaction ends the replica catches up and permits again.
   */
  async function expectStaleWhile(hold: string, change: object): Promise<void> {
    const held = new Client({ connectionString: db.url });
    await held.connect();
    try {
      await held.query('BEGIN');
      await held.query(hold);
      await consentFor(P.waiting, change);
      await new Promise((r) => setTimeout(r, 2000));
      const res = await decide(main()).expect(200);
      expect(codesOf(res.body)['care-plan']).toEqual(['consent-state-stale']);
    } finally {
      await held.query('ROLLBACK');
      await held.end();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await decide(main()).expect(200)).body.outcome).toBe('permit');
  }

  it('denies with consent-state-stale when the replica cannot confirm it is current', async () => {
    // Another holder of the consumer's checkpoint keeps the replica from reading (as a stuck
    // replica would) while a consent event waits for it; past CONSENT_MAX_STALENESS_MS its
    // state is not relied on. (With nothing waiting, the replica is current whoever holds it.)
    await expectStaleWhile(
      `SELECT * FROM gateway.consumer_checkpoints WHERE consumer_group = 'sharing-gateway.consent-replica' FOR UPDATE`,
      {},
    );
  });

  it('denies with consent-state-stale while a consent change waits behind a long-running transaction', async () => {
    // A transaction that has written and not finished (a stuck session, a long batch job) holds
    // back every outbox row committed after it started: the replica cannot read the change, so
    // it must not go on saying it is current.
    await expectStaleWhile('SELECT pg_current_xact_id()', { purposes: ['research'] });
  });

  it('lets a safeguarding lead override with a statute, opening an audited window', async () => {
    const lead = token('lead-1', ['safeguarding_lead']);
    const body = {
      subjectId: P.breakGlass,
      purposeOfUse: 'safeguarding',
      dataCategories: ['care-plan', 'safeguarding'],
    };
    const normal = await decide(body, lead).expect(200);
    expect(normal.body.outcome).toBe('deny');
    const override = await decide(
      {
        ...body,
        breakGlass: {
          reason: 'Bruising reported by district nurse; s.42 enquiry opened',
          statutoryBasis: 'care-act-2014-s42',
        },
      },
      lead,
    ).expect(200);
    expect(override.body).toMatchObject({
      outcome: 'permit',
      permitted: ['care-plan', 'safeguarding'],
      obligations: expect.arrayContaining(['audit', 'notify-subject', 'ig-review']),
      legalBasis: expect.objectContaining({
        source: 'break-glass',
        statutes: ['care-act-2014-s42'],
      }),
      breakGlassWindow: expect.objectContaining({ statute: 'care-act-2014-s42' }),
    });
    const hours =
      (Date.parse(override.body.breakGlassWindow.closesAt) -
        Date.parse(override.body.breakGlassWindow.opensAt)) /
      3_600_000;
    expect(hours).toBe(24);
    const later = await decide(body, lead).expect(200);
    expect(later.body).toMatchObject({
      outcome: 'permit',
      breakGlassWindowId: override.body.decisionId,
    });
    expect(later.body.obligations).toEqual(['audit']);
    const event = await ds.query(
      `SELECT envelope FROM gateway.outbox WHERE envelope->'data'->>'decisionId' = $1`,
      [override.body.decisionId],
    );
    expect(event[0].envelope.data).toMatchObject({
      needToKnow: 'break-glass',
      breakGlass: { statute: 'care-act-2014-s42' },
    });
    expect(JSON.stringify(event[0].envelope)).not.toContain('Bruising');
  });

  it('refuses the override to a role not allowed it: break-glass-not-permitted', async () => {
    const res = await decide(
      {
        ...main(),
        breakGlass: {
          reason: 'Urgent concern raised by a neighbour today',
          statutoryBasis: 'care-act-2014-s42',
        },
      },
      token('pr-1', ['practitioner']),
    ).expect(200);
    expect(res.body.outcome).toBe('deny');
    expect(codesOf(res.body)['care-plan']).toEqual([
      'no-legitimate-relationship',
      'break-glass-not-permitted',
    ]);
  });

  it('never lets the override bypass requester eligibility', async () => {
    await user('lead-old', { roles: ['safeguarding_lead'], igTrainingCompletedOn: '2024-01-01' });
    const res = await decide(
      {
        ...main(),
        breakGlass: {
          reason: 'Bruising reported by district nurse; s.42',
          statutoryBasis: 'care-act-2014-s42',
        },
      },
      token('lead-old', ['safeguarding_lead']),
    ).expect(200);
    expect(codesOf(res.body)['care-plan']).toEqual(['training-expired']);
  });

  it('lets a system act on behalf of a registered user, and names both', async () => {
    const system = token('shared-care-record', ['system'], 'RX1');
    const res = await decide({ ...main(), onBehalfOf: 'gp-1' }, system).expect(200);
    expect(res.body).toMatchObject({ outcome: 'permit', requesterUserId: 'gp-1' });
    const stored = await gw()
      .get(`/v1/decisions/${res.body.decisionId}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(stored.body.caller.userId).toBe('shared-care-record');
    const missing = await decide(main(), system).expect(400);
    expect(missing.body.details[0].field).toBe('onBehalfOf');
    const unknown = await decide({ ...main(), onBehalfOf: 'nobody' }, system).expect(422);
    expect(unknown.body.error).toBe('ON_BEHALF_OF_UNKNOWN');
  });

  it('record proxy: 403 with reasons when nothing is permitted, and the source is not asked', async () => {
    const before = sourceRequests;
    const res = await gw()
      .get(`/v1/subjects/${P.main}/record?purpose=direct-care&categories=financial`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(403);
    expect(res.body).toMatchObject({ error: 'ACCESS_DENIED', decisionId: expect.any(String) });
    expect(res.body.denied[0].reasons[0].code).toBe('no-agreement');
    expect(sourceRequests).toBe(before);
  });

  it('fails closed: when the decision cannot be committed, 503 and the record source is not asked', async () => {
    const before = sourceRequests;
    const decisions = Number((await ds.query(`SELECT count(*) AS n FROM gateway.decisions`))[0].n);
    await ds.query(`
      CREATE FUNCTION gateway.fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'forced failure'; END $$`);
    await ds.query(
      `CREATE TRIGGER fail_insert BEFORE INSERT ON gateway.outbox FOR EACH ROW EXECUTE FUNCTION gateway.fail_insert()`,
    );
    try {
      const res = await gw()
        .get(`/v1/subjects/${P.main}/record?purpose=direct-care&categories=care-plan`)
        .set('Authorization', `Bearer ${worker}`)
        .expect(503);
      expect(res.body.error).toBe('DECISION_NOT_RECORDED');
      expect(res.body.categories).toBeUndefined();
      expect(sourceRequests).toBe(before);
    } finally {
      await ds.query(`DROP TRIGGER fail_insert ON gateway.outbox`);
      await ds.query(`DROP FUNCTION gateway.fail_insert()`);
    }
    const after = Number((await ds.query(`SELECT count(*) AS n FROM gateway.decisions`))[0].n);
    expect(after).toBe(decisions);
  });

  it('a record source failure is a 502 and the decision stays recorded', async () => {
    sourceFails = true;
    try {
      const res = await gw()
        .get(`/v1/subjects/${P.main}/record?purpose=direct-care&categories=care-plan`)
        .set('Authorization', `Bearer ${worker}`)
        .expect(502);
      expect(res.body.error).toBe('RECORD_SOURCE_FAILED');
    } finally {
      sourceFails = false;
    }
    const [last] = await ds.query(
      `SELECT channel, outcome FROM gateway.decisions ORDER BY decided_at DESC LIMIT 1`,
    );
    expect(last).toEqual({ channel: 'record', outcome: 'permit' });
  });

  it('replays 1,000 decisions made under changing consents, agreements and relationships', async () => {
    await relate('house-1', P.replay);
    const agreements = await gw()
      .get('/v1/agreements?party=HOUSE1')
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
    const housingAgreement = agreements.body.agreements[0].agreementId as string;
    const ids: string[] = [];
    let consentId: string | null = null;
    let version = 0;
    for (let round = 0; round < 20; round++) {
      // Change something every 50 decisions: consent on and off, agreement status, a relationship.
      if (round % 4 === 0) {
        const res = await consentFor(P.replay, {});
        consentId = res.body.consentId;
        version = res.body.streamVersion;
      } else if (round % 4 === 1 && consentId) {
        const res = await cs()
          .post(`/v1/subjects/${P.replay}/consents/${consentId}/withdrawal`)
          .set('Authorization', `Bearer ${worker}`)
          .send({ reason: 'replay test' })
          .expect(200);
        version = res.body.streamVersion;
      } else if (round % 4 === 2) {
        await gw()
          .patch(`/v1/agreements/${housingAgreement}`)
          .set('Authorization', `Bearer ${admin}`)
          .send({ status: round % 8 === 2 ? 'suspended' : 'active' })
          .expect(200);
      } else {
        await relate('house-1', P.replay);
      }
      await replicaAt(P.replay, version);
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          decide(
            {
              subjectId: P.replay,
              purposeOfUse: 'direct-care',
              dataCategories: i % 2 ? ['care-plan'] : ['care-plan', 'safeguarding'],
            },
            housing,
          ).expect(200),
        ),
      );
      ids.push(...batch.map((r) => r.body.decisionId as string));
    }
    expect(new Set(ids).size).toBe(1000);
    const outcomes = new Set<string>();
    for (let i = 0; i < ids.length; i += 25) {
      const replays = await Promise.all(
        ids
          .slice(i, i + 25)
          .map((id) =>
            gw()
              .post(`/v1/decisions/${id}/replay`)
              .set('Authorization', `Bearer ${officer}`)
              .expect(200),
          ),
      );
      for (const r of replays) {
        expect({ id: r.body.decisionId, matches: r.body.matches }).toEqual({
          id: r.body.decisionId,
          matches: true,
        });
        outcomes.add(r.body.original.outcome);
      }
    }
    // The changes really changed the answers: both permits and denials were replayed.
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(['deny', 'permit']));
  });
});
