import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Role } from '#common';
import { bootGateway } from '../support/gateway-app';
import { testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';

jest.setTimeout(120_000);

const PERSON = '9434765919';
const token = (sub: string, roles: Role[], org = 'X26', teams: string[] = []) =>
  tokenFor(testDataDir(), { sub, org, roles, teams });
const admin = token('admin-1', ['admin', 'ig_officer']);
const officer = token('ig-1', ['ig_officer']);

describe('sharing gateway: reference data and decisions', () => {
  let db: { url: string; drop: () => Promise<void> };
  let app: NestFastifyApplication;
  let ds: DataSource;
  const http = () => request(app.getHttpServer());
  const put = (path: string, body: object) =>
    http().put(path).set('Authorization', `Bearer ${admin}`).send(body);
  const post = (path: string, body: object, bearer = admin) =>
    http().post(path).set('Authorization', `Bearer ${bearer}`).send(body);

  beforeAll(async () => {
    db = await createTestDatabase('gatewayapi');
    app = await bootGateway(db.url);
    ds = app.get(DataSource);
    await put('/v1/organisations/X26', {
      name: 'Northshire Council',
      kind: 'local-authority',
      country: 'GB',
    }).expect(200);
    await put('/v1/organisations/RX1', {
      name: 'Northshire NHS Trust',
      kind: 'nhs-trust',
      country: 'GB',
    }).expect(200);
    await put('/v1/users/sw-1', {
      org: 'X26',
      roles: ['social_worker'],
      teams: ['adults-north'],
      igTrainingCompletedOn: new Date().toISOString().slice(0, 10),
    }).expect(200);
    await post('/v1/agreements', {
      title: 'Direct care across health and social care',
      parties: ['kind:local-authority', 'kind:nhs-trust'],
      roles: ['social_worker', 'practitioner', 'safeguarding_lead'],
      purposes: ['direct-care'],
      dataCategories: ['care-plan', 'assessments', 'demographics'],
      legalBasis: {
        article6: 'UK-GDPR-6-1-e',
        article9: 'UK-GDPR-9-2-h',
        statutes: ['hsc-sqa-2015-s251b'],
      },
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2030-01-01T00:00:00Z',
      status: 'active',
    }).expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('permits a worker with a relationship, stores the decision and publishes its event', async () => {
    await post('/v1/relationships', {
      userId: 'sw-1',
      subjectId: PERSON,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    }).expect(201);
    const worker = token('sw-1', ['social_worker']);
    const res = await post(
      '/v1/decisions',
      {
        subjectId: PERSON,
        purposeOfUse: 'direct-care',
        dataCategories: ['care-plan', 'safeguarding'],
      },
      worker,
    ).expect(200);
    expect(res.body).toMatchObject({
      outcome: 'partial',
      permitted: ['care-plan'],
      denied: [
        {
          category: 'safeguarding',
          reasons: [expect.objectContaining({ code: 'sensitive-not-named' })],
        },
      ],
      obligations: ['audit'],
      legalBasis: expect.objectContaining({ article6: 'UK-GDPR-6-1-e', source: 'agreement' }),
    });
    const events = await ds.query(
      `SELECT type, envelope FROM gateway.outbox WHERE type = 'gateway.decision.v1'`,
    );
    expect(events).toHaveLength(1);
    expect(events[0].envelope.data).toMatchObject({
      decisionId: res.body.decisionId,
      outcome: 'partial',
      needToKnow: 'relationship',
    });
    const stored = await http()
      .get(`/v1/decisions/${res.body.decisionId}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(stored.body.request).toMatchObject({ subjectId: PERSON, requesterUserId: 'sw-1' });
    const replay = await http()
      .post(`/v1/decisions/${res.body.decisionId}/replay`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(replay.body.replayed).toEqual(replay.body.original);
    expect(replay.body.matches).toBe(true);
  });

  it('ends a relationship: later requests lack need-to-know, earlier decisions still replay', async () => {
    const second = '9434765870';
    const created = await post('/v1/relationships', {
      userId: 'sw-1',
      subjectId: second,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    }).expect(201);
    const worker = token('sw-1', ['social_worker']);
    const ask = { subjectId: second, purposeOfUse: 'direct-care', dataCategories: ['care-plan'] };
    const before = await post('/v1/decisions', ask, worker).expect(200);
    expect(before.body.outcome).toBe('permit');
    const ended = await http()
      .delete(`/v1/relationships/${created.body.relationshipId}`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
    expect(ended.body).toMatchObject({
      relationshipId: created.body.relationshipId,
      endedAt: expect.any(String),
      validUntil: ended.body.endedAt,
    });
    const again = await http()
      .delete(`/v1/relationships/${created.body.relationshipId}`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(422);
    expect(again.body.error).toBe('RELATIONSHIP_ALREADY_ENDED');
    const after = await post('/v1/decisions', ask, worker).expect(200);
    expect(after.body.denied[0].reasons.map((r: { code: string }) => r.code)).toEqual([
      'no-legitimate-relationship',
    ]);
    const replay = await http()
      .post(`/v1/decisions/${before.body.decisionId}/replay`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(replay.body).toMatchObject({ matches: true, replayed: { outcome: 'permit' } });
  });

  it('releases only permitted categories through the record proxy', async () => {
    const worker = token('sw-1', ['social_worker']);
    const res = await http()
      .get(`/v1/subjects/${PERSON}/record?purpose=direct-care&categories=care-plan,financial`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    expect(Object.keys(res.body.categories)).toEqual(['care-plan']);
    expect(res.body.denied[0]).toMatchObject({ category: 'financial' });
    const metrics = await http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /gateway_decisions_total\{outcome="partial",channel="record",break_glass="no"[^}]*\} 1\n/,
    );
    const batches = /gateway_decision_commit_batch_size_count\{[^}]*\} (\d+)/.exec(metrics.text);
    // One observation per committed batch; decisions made one at a time commit one by one.
    expect(Number(batches?.[1])).toBeGreaterThanOrEqual(4);
    // Their facts were read one at a time too: as many reads as decisions, one ask each.
    const reads = /gateway_facts_read_batch_size_count\{[^}]*\} (\d+)/.exec(metrics.text);
    const asks = /gateway_facts_read_batch_size_sum\{[^}]*\} (\d+)/.exec(metrics.text);
    expect(Number(reads?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(asks?.[1])).toBe(Number(reads?.[1]));
  });
});
