import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Role } from '#common';
import { bootConsentService } from '../support/consent-app';
import { testDataDir } from '../support/service-app';
import { tokenFor } from '../support/tokens';

jest.setTimeout(120_000);

const PERSON = '9434765919';
const OTHER = '9434765870';
const token = (roles: Role[], sub = 'sw-1', name?: string) =>
  tokenFor(testDataDir(), { sub, org: 'X26', roles, ...(name ? { name } : {}) } as never);
const worker = token(['social_worker']);
const officer = token(['ig_officer'], 'ig-1');

const grant = {
  decision: 'granted',
  purposes: ['direct-care'],
  recipients: ['kind:nhs-trust', 'kind:local-authority'],
  dataCategories: ['care-plan', 'assessments'],
  validUntil: '2030-01-01T00:00:00Z',
  capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
  evidenceRef: 'DOC-77',
  notes: 'Discussed at home visit with daughter present',
};

describe('consent service API', () => {
  let stop: () => Promise<void>;
  let app: NestFastifyApplication;
  let ds: DataSource;
  const http = () => request(app.getHttpServer());
  const eventCount = async (subject = PERSON): Promise<number> =>
    (
      await ds.query(`SELECT count(*)::int AS n FROM consent.events WHERE stream_id = $1`, [
        subject,
      ])
    )[0].n;

  beforeAll(async () => {
    ({ app, stop } = await bootConsentService('consentapi'));
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await stop?.();
  });

  it('records consent, shows it, withdraws it, and tells the story in plain English', async () => {
    const worker2 = token(['social_worker'], 'sw-2', 'A. Social Worker');
    const created = await http()
      .post(`/v1/subjects/${PERSON}/consents`)
      .set('Authorization', `Bearer ${worker2}`)
      .send(grant)
      .expect(201);
    expect(created.body).toEqual({
      consentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      streamVersion: 1,
    });
    expect(created.headers.etag).toBe('"1"');

    const state = await http()
      .get(`/v1/subjects/${PERSON}/consent-state`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(state.body).toMatchObject({
      subjectId: PERSON,
      streamVersion: 1,
      nationalOptOut: false,
      objections: [],
    });
    expect(state.body.consents).toEqual([
      expect.objectContaining({
        consentId: created.body.consentId,
        decision: 'granted',
        status: 'active',
        dataCategories: ['care-plan', 'assessments'],
      }),
    ]);

    await http()
      .post(`/v1/subjects/${PERSON}/consents/${created.body.consentId}/withdrawal`)
      .set('Authorization', `Bearer ${worker2}`)
      .send({ reason: 'She no longer wants the hospital to see her care plan' })
      .expect(200, { streamVersion: 2 });
    const after = await http()
      .get(`/v1/subjects/${PERSON}/consent-state`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    expect(after.body.consents[0].status).toBe('withdrawn');

    const history = await http()
      .get(`/v1/subjects/${PERSON}/history`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    expect(history.body.map((h: { type: string }) => h.type)).toEqual([
      'consent.granted.v1',
      'consent.withdrawn.v1',
    ]);
    const today = new Date().toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'Europe/London',
    });
    expect(history.body[1].summary).toBe(
      `Your consent for NHS hospitals and trusts and council services to see your care plan and your assessments for your care was withdrawn by A. Social Worker on ${today}: She no longer wants the hospital to see her care plan`,
    );

    // Published for the gateway and the audit log, without the free-text notes or reasons.
    const outbox: {
      type: string;
      envelope: { data: Record<string, unknown>; subjectId: string };
    }[] = await ds.query(
      `SELECT type, envelope FROM consent.outbox WHERE partition_key = $1 ORDER BY global_position`,
      [PERSON],
    );
    expect(outbox.map((o) => o.type)).toEqual(['consent.granted.v1', 'consent.withdrawn.v1']);
    expect(outbox[0].envelope.data).toMatchObject({
      consentId: created.body.consentId,
      purposes: ['direct-care'],
    });
    expect(JSON.stringify(outbox)).not.toMatch(/daughter|no longer wants/);
  });

  it('refuses to withdraw twice, someone else’s consent, or an unknown one', async () => {
    const subject = '4010232137';
    const mine = await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(grant)
      .expect(201);
    const theirs = await http()
      .post(`/v1/subjects/${OTHER}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(grant)
      .expect(201);
    const withdraw = (s: string, id: string) =>
      http()
        .post(`/v1/subjects/${s}/consents/${id}/withdrawal`)
        .set('Authorization', `Bearer ${worker}`)
        .send({ reason: 'asked' });
    await withdraw(subject, mine.body.consentId).expect(200);
    const twice = await withdraw(subject, mine.body.consentId).expect(422);
    expect(twice.body).toMatchObject({
      error: 'CONSENT_ALREADY_WITHDRAWN',
      message: 'This consent was already withdrawn.',
    });
    const other = await withdraw(subject, theirs.body.consentId).expect(422);
    expect(other.body.error).toBe('RECORD_OF_ANOTHER_PERSON');
    const unknown = await withdraw(subject, '0b7c2a39-9b1a-4c39-9d35-6f1c2f1e1a11').expect(404);
    expect(unknown.body.error).toBe('CONSENT_NOT_FOUND');
    expect(await eventCount(subject)).toBe(2);
  });

  it('lets only IG decide objections, once, and a service user act only on their own record', async () => {
    const subject = '9434765870';
    const person = token(['service_user'], subject);
    const raised = await http()
      .post(`/v1/subjects/${subject}/objections`)
      .set('Authorization', `Bearer ${person}`)
      .send({
        purposes: ['direct-care'],
        recipients: ['kind:housing'],
        dataCategories: ['mental-health'],
        reason: 'I do not want housing to know',
      })
      .expect(201);
    expect(raised.body).toMatchObject({ objectionId: expect.any(String), status: 'pending' });
    const path = `/v1/subjects/${subject}/objections/${raised.body.objectionId}/decision`;
    await http()
      .post(path)
      .set('Authorization', `Bearer ${worker}`)
      .send({ outcome: 'upheld', reason: 'r' })
      .expect(403);
    await http()
      .post(path)
      .set('Authorization', `Bearer ${officer}`)
      .send({ outcome: 'upheld', reason: 'Low risk' })
      .expect(200);
    const again = await http()
      .post(path)
      .set('Authorization', `Bearer ${officer}`)
      .send({ outcome: 'overruled', reason: 'r' })
      .expect(422);
    expect(again.body.error).toBe('OBJECTION_ALREADY_DECIDED');
    await http()
      .get(`/v1/subjects/${PERSON}/consent-state`)
      .set('Authorization', `Bearer ${person}`)
      .expect(403)
      .expect((res) => expect(res.body.error).toBe('NOT_YOUR_RECORD'));
    const own = await http()
      .get(`/v1/subjects/${subject}/consent-state`)
      .set('Authorization', `Bearer ${person}`)
      .expect(200);
    expect(own.body.objections[0]).toMatchObject({ status: 'upheld' });
  });

  it('needs a registered LPA before an attorney can consent', async () => {
    const subject = '9000000009';
    const viaLpa = {
      ...grant,
      capture: {
        method: 'written',
        givenBy: 'lpa-health-welfare',
        capacity: 'has-capacity',
        proxyName: 'J. Doe',
      },
    };
    const refused = await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(viaLpa)
      .expect(422);
    expect(refused.body.error).toBe('PROXY_NOT_REGISTERED');
    await http()
      .post(`/v1/subjects/${subject}/proxies`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        kind: 'lpa-health-welfare',
        name: 'J. Doe',
        reference: 'OPG-7',
        validFrom: '2025-01-01T00:00:00Z',
      })
      .expect(201);
    await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(viaLpa)
      .expect(201);
  });

  it('answers a stale If-Match with 412 and records nothing', async () => {
    const subject = '9876543210';
    await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(grant)
      .expect(201);
    const stale = await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .set('If-Match', '"0"')
      .send(grant)
      .expect(412);
    expect(stale.body.error).toBe('VERSION_CONFLICT');
    expect(await eventCount(subject)).toBe(1);
    await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .set('If-Match', '"1"')
      .send(grant)
      .expect(201);
  });

  it('returns the first result for a repeated Idempotency-Key and appends nothing', async () => {
    const subject = '1234567881';
    const send = (body: object) =>
      http()
        .post(`/v1/subjects/${subject}/consents`)
        .set('Authorization', `Bearer ${worker}`)
        .set('Idempotency-Key', 'visit-42-consent')
        .send(body);
    const first = await send(grant).expect(201);
    const second = await send(grant).expect(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(await eventCount(subject)).toBe(1);
    const reused = await send({ ...grant, decision: 'refused' }).expect(422);
    expect(reused.body.error).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('lets exactly one of 50 concurrent writers with the same If-Match win, leaving no gaps', async () => {
    const subject = '9434765927';
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        http()
          .post(`/v1/subjects/${subject}/consents`)
          .set('Authorization', `Bearer ${worker}`)
          .set('If-Match', '"0"')
          .send(grant),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    // and round after round, one winner per version
    for (let version = 1; version <= 3; version++) {
      const round = await Promise.all(
        Array.from({ length: 10 }, () =>
          http()
            .post(`/v1/subjects/${subject}/consents`)
            .set('Authorization', `Bearer ${worker}`)
            .set('If-Match', `"${version}"`)
            .send(grant),
        ),
      );
      expect(round.filter((r) => r.status === 201)).toHaveLength(1);
    }
    const positions: { stream_position: number }[] = await ds.query(
      `SELECT stream_position FROM consent.events WHERE stream_id = $1 ORDER BY stream_position`,
      [subject],
    );
    expect(positions.map((p) => p.stream_position)).toEqual([1, 2, 3, 4]);
  });

  it('without If-Match, concurrent writers are all recorded, in order, without gaps', async () => {
    const subject = '9434765935';
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        http()
          .post(`/v1/subjects/${subject}/consents`)
          .set('Authorization', `Bearer ${worker}`)
          .send(grant),
      ),
    );
    const ok = results.filter((r) => r.status === 201).length;
    expect(ok + results.filter((r) => r.status === 412).length).toBe(8);
    expect(ok).toBeGreaterThanOrEqual(3);
    const positions: { stream_position: number }[] = await ds.query(
      `SELECT stream_position FROM consent.events WHERE stream_id = $1 ORDER BY stream_position`,
      [subject],
    );
    expect(positions.map((p) => p.stream_position)).toEqual(
      Array.from({ length: ok }, (_, i) => i + 1),
    );
  });

  it('gives the state at 20 random past instants, equal to the projection as it was then', async () => {
    const subject = '9434765943';
    // Each live state holds from just after its write until just before the next write.
    const snapshots: { from: number; to: number; state: unknown }[] = [];
    const strip = (s: { asOf: string }) => ({ ...s, asOf: undefined });
    for (let i = 0; i < 10; i++) {
      if (snapshots.length > 0) snapshots[snapshots.length - 1].to = Date.now();
      const body =
        i % 3 === 2
          ? { optedOut: i % 2 === 0 }
          : { ...grant, dataCategories: i % 2 ? ['care-plan'] : ['contacts'] };
      const path =
        i % 3 === 2
          ? `/v1/subjects/${subject}/national-opt-out`
          : `/v1/subjects/${subject}/consents`;
      const req = i % 3 === 2 ? http().put(path) : http().post(path);
      await req
        .set('Authorization', `Bearer ${worker}`)
        .send(body)
        .expect((r) => expect(r.status).toBeLessThan(300));
      const live = await http()
        .get(`/v1/subjects/${subject}/consent-state`)
        .set('Authorization', `Bearer ${worker}`)
        .expect(200);
      snapshots.push({ from: Date.now(), to: Date.now() + 1000, state: strip(live.body) });
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let k = 0; k < 20; k++) {
      const snapshot = snapshots[Math.floor(Math.random() * snapshots.length)];
      const instant = snapshot.from + Math.random() * (snapshot.to - snapshot.from);
      const res = await http()
        .get(`/v1/subjects/${subject}/consent-state`)
        .query({ asOf: new Date(instant).toISOString() })
        .set('Authorization', `Bearer ${worker}`)
        .expect(200);
      expect(strip(res.body)).toEqual(snapshot.state);
    }
  });

  it('stops counting a consent after validUntil, with no job to expire it', async () => {
    const subject = '9434765951';
    const soon = new Date(Date.now() + 1200).toISOString();
    await http()
      .post(`/v1/subjects/${subject}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send({ ...grant, validUntil: soon })
      .expect(201);
    const now = await http()
      .get(`/v1/subjects/${subject}/consent-state`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    expect(now.body.consents[0].status).toBe('active');
    await new Promise((r) => setTimeout(r, 1500));
    const later = await http()
      .get(`/v1/subjects/${subject}/consent-state`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    expect(later.body.consents[0].status).toBe('expired');
  });
});

describe('consent service FHIR view', () => {
  let stop: () => Promise<void>;
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    ({ app, stop } = await bootConsentService('consentfhir'));
  });

  afterAll(async () => {
    await stop?.();
  });

  it('returns consents and objections as FHIR R4 Consent resources', async () => {
    const created = await http()
      .post(`/v1/subjects/${PERSON}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send(grant)
      .expect(201);
    await http()
      .post(`/v1/subjects/${PERSON}/objections`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        purposes: ['research'],
        recipients: ['RJ1'],
        dataCategories: ['mental-health'],
        reason: 'no research',
      })
      .expect(201);
    const res = await http()
      .get('/fhir/Consent')
      .query({ patient: PERSON })
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    const [consent, objection] = res.body.entry.map((e: { resource: unknown }) => e.resource);
    expect(consent).toMatchObject({
      resourceType: 'Consent',
      id: created.body.consentId,
      status: 'active',
      meta: { versionId: '1' },
      scope: { coding: [{ code: 'patient-privacy' }] },
      patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: PERSON } },
      provision: {
        type: 'permit',
        period: { end: '2030-01-01T00:00:00.000Z' },
        purpose: expect.arrayContaining([
          expect.objectContaining({ code: 'direct-care' }),
          expect.objectContaining({ code: 'TREAT' }),
        ]),
        class: [
          expect.objectContaining({ code: 'care-plan' }),
          expect.objectContaining({ code: 'assessments' }),
        ],
        actor: [
          expect.objectContaining({ reference: { display: 'any organisation of kind nhs-trust' } }),
          expect.objectContaining({
            reference: { display: 'any organisation of kind local-authority' },
          }),
        ],
      },
    });
    expect(consent.extension).toEqual([expect.objectContaining({ valueInteger: 1 })]);
    expect(objection).toMatchObject({
      status: 'proposed',
      meta: { versionId: '2' },
      provision: { type: 'deny', actor: [{ reference: { identifier: { value: 'RJ1' } } }] },
    });
    const bad = await http()
      .get('/fhir/Consent')
      .query({ patient: '123' })
      .set('Authorization', `Bearer ${officer}`)
      .expect(400);
    expect(bad.body.details[0].field).toBe('patient');
  });
});
