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
const AGREEMENT_ID = '0b7c2a39-9b1a-4c39-9d35-6f1c2f1e1a11';
const today = () => new Date().toISOString().slice(0, 10);
const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
const huge = 'x'.repeat(1_000_000);
const REASON = 'Police report an immediate risk of serious harm to the person';

const decision = {
  subjectId: PERSON,
  purposeOfUse: 'direct-care',
  dataCategories: ['care-plan'],
};
const breakGlass = { reason: REASON, statutoryBasis: 'care-act-2014-s42' };
const organisation = { name: 'Northshire NHS Trust', kind: 'nhs-trust', country: 'GB' };
const user = () => ({
  org: 'X26',
  roles: ['social_worker'],
  teams: ['adults-north'],
  igTrainingCompletedOn: today(),
});
const legalBasis = {
  article6: 'UK-GDPR-6-1-e',
  article9: 'UK-GDPR-9-2-h',
  statutes: ['hsc-sqa-2015-s251b'],
};
const agreement = {
  title: 'Direct care across health and social care',
  parties: ['kind:local-authority', 'kind:nhs-trust'],
  roles: ['social_worker', 'practitioner'],
  purposes: ['direct-care'],
  dataCategories: ['care-plan', 'assessments'],
  legalBasis,
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2030-01-01T00:00:00Z',
  status: 'active',
};
const relationship = {
  userId: 'sw-1',
  subjectId: PERSON,
  type: 'allocated-worker',
  validFrom: '2026-01-01T00:00:00Z',
};
const grant = {
  userId: 'sw-1',
  purpose: 'direct-care',
  validUntil: '2030-01-31T00:00:00Z',
  approvedBy: 'cg-1',
};
const without = (body: object, key: string) =>
  Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));

type Who = 'worker' | 'admin';
type Method = 'get' | 'post' | 'put' | 'patch';
type Case = [
  name: string,
  who: Who,
  method: Method,
  path: string,
  body: unknown,
  field: string,
  // Always present: jest-each passes a `done` callback in place of a missing last column.
  headers: Record<string, string>,
];

const decide = (name: string, body: unknown, field: string): Case => [
  name,
  'worker',
  'post',
  '/v1/decisions',
  body,
  field,
  {},
];
const record = (
  name: string,
  query: string,
  field: string,
  headers: Record<string, string> = {},
  subjectId = PERSON,
): Case => [
  name,
  'worker',
  'get',
  `/v1/subjects/${subjectId}/record${query ? `?${query}` : ''}`,
  undefined,
  field,
  headers,
];
const ref = (name: string, method: Method, path: string, body: unknown, field: string): Case => [
  name,
  'admin',
  method,
  path,
  body,
  field,
  {},
];
const VALID_QUERY = 'purpose=direct-care&categories=care-plan';

const cases: Case[] = [
  // POST /v1/decisions
  decide('decision: unknown purpose', { ...decision, purposeOfUse: 'marketing' }, 'purposeOfUse'),
  decide('decision: missing purpose', without(decision, 'purposeOfUse'), 'purposeOfUse'),
  decide(
    'decision: unknown category',
    { ...decision, dataCategories: ['genome'] },
    'dataCategories',
  ),
  decide('decision: empty categories', { ...decision, dataCategories: [] }, 'dataCategories'),
  decide(
    'decision: duplicate categories',
    { ...decision, dataCategories: ['care-plan', 'care-plan'] },
    'dataCategories',
  ),
  decide(
    'decision: categories not an array',
    { ...decision, dataCategories: 'care-plan' },
    'dataCategories',
  ),
  decide(
    'decision: 10,000 categories',
    { ...decision, dataCategories: Array.from({ length: 10_000 }, () => 'care-plan') },
    'dataCategories',
  ),
  decide(
    'decision: NHS number with a wrong check digit',
    { ...decision, subjectId: '9434765918' },
    'subjectId',
  ),
  decide(
    'decision: NHS number with letters',
    { ...decision, subjectId: '94347659AB' },
    'subjectId',
  ),
  decide('decision: ten equal digits', { ...decision, subjectId: '1111111111' }, 'subjectId'),
  decide('decision: subjectId a number', { ...decision, subjectId: 9434765919 }, 'subjectId'),
  decide('decision: missing subjectId', without(decision, 'subjectId'), 'subjectId'),
  decide(
    'decision: unknown override statute',
    { ...decision, breakGlass: { ...breakGlass, statutoryBasis: 'magna-carta-1215' } },
    'breakGlass.statutoryBasis',
  ),
  decide(
    'decision: override reason shorter than 20 characters',
    { ...decision, breakGlass: { ...breakGlass, reason: 'urgent' } },
    'breakGlass.reason',
  ),
  decide(
    'decision: override reason of 1 MB',
    { ...decision, breakGlass: { ...breakGlass, reason: huge } },
    'breakGlass.reason',
  ),
  decide(
    'decision: override reason only spaces',
    { ...decision, breakGlass: { ...breakGlass, reason: ' '.repeat(25) } },
    'breakGlass.reason',
  ),
  decide(
    'decision: override without a reason',
    { ...decision, breakGlass: without(breakGlass, 'reason') },
    'breakGlass.reason',
  ),
  decide(
    'decision: breakGlass not an object',
    { ...decision, breakGlass: 'emergency' },
    'breakGlass',
  ),
  decide(
    'decision: extra field in breakGlass',
    { ...decision, breakGlass: { ...breakGlass, approvedBy: 'sw-2' } },
    'breakGlass.approvedBy',
  ),
  decide(
    'decision: extra top-level field',
    { ...decision, decisionId: AGREEMENT_ID },
    'decisionId',
  ),
  decide('decision: recipientOrg lower-case', { ...decision, recipientOrg: 'rx1' }, 'recipientOrg'),
  decide('decision: onBehalfOf with spaces', { ...decision, onBehalfOf: 'sw 1' }, 'onBehalfOf'),

  // GET /v1/subjects/{subjectId}/record
  record('record: bad subjectId', VALID_QUERY, 'subjectId', {}, '9434765918'),
  record('record: missing purpose', 'categories=care-plan', 'purpose'),
  record('record: unknown purpose', 'purpose=marketing&categories=care-plan', 'purpose'),
  record('record: missing categories', 'purpose=direct-care', 'categories'),
  record(
    'record: unknown category',
    'purpose=direct-care&categories=care-plan,genome',
    'categories',
  ),
  record(
    'record: duplicate categories',
    'purpose=direct-care&categories=care-plan,care-plan',
    'categories',
  ),
  record('record: unknown query parameter', `${VALID_QUERY}&format=pdf`, 'format'),
  record('record: recipientOrg lower-case', `${VALID_QUERY}&recipientOrg=rx1`, 'recipientOrg'),
  record('record: short X-Break-Glass-Reason', VALID_QUERY, 'X-Break-Glass-Reason', {
    'X-Break-Glass-Reason': 'urgent',
    'X-Break-Glass-Statute': 'care-act-2014-s42',
  }),
  record('record: X-Break-Glass-Reason only spaces', VALID_QUERY, 'X-Break-Glass-Reason', {
    'X-Break-Glass-Reason': ' '.repeat(25),
    'X-Break-Glass-Statute': 'care-act-2014-s42',
  }),
  record('record: unknown X-Break-Glass-Statute', VALID_QUERY, 'X-Break-Glass-Statute', {
    'X-Break-Glass-Reason': REASON,
    'X-Break-Glass-Statute': 'magna-carta-1215',
  }),
  record('record: reason header without statute', VALID_QUERY, 'X-Break-Glass-Statute', {
    'X-Break-Glass-Reason': REASON,
  }),

  // PUT /v1/organisations/{odsCode}
  ref('organisation: lower-case code', 'put', '/v1/organisations/rx1', organisation, 'odsCode'),
  ref(
    'organisation: unknown kind',
    'put',
    '/v1/organisations/RX1',
    { ...organisation, kind: 'bank' },
    'kind',
  ),
  ref(
    "organisation: country 'UK '",
    'put',
    '/v1/organisations/RX1',
    { ...organisation, country: 'UK ' },
    'country',
  ),
  ref(
    "organisation: country 'gbr'",
    'put',
    '/v1/organisations/RX1',
    { ...organisation, country: 'gbr' },
    'country',
  ),
  ref(
    'organisation: missing name',
    'put',
    '/v1/organisations/RX1',
    without(organisation, 'name'),
    'name',
  ),
  ref(
    'organisation: name of 10 KB',
    'put',
    '/v1/organisations/RX1',
    { ...organisation, name: 'n'.repeat(10_240) },
    'name',
  ),

  // PUT /v1/users/{userId}
  ref('user: unknown role', 'put', '/v1/users/sw-2', { ...user(), roles: ['wizard'] }, 'roles'),
  ref(
    'user: training date in the future',
    'put',
    '/v1/users/sw-2',
    { ...user(), igTrainingCompletedOn: inTwoDays() },
    'igTrainingCompletedOn',
  ),
  ref(
    'user: training on 2026-02-30',
    'put',
    '/v1/users/sw-2',
    { ...user(), igTrainingCompletedOn: '2026-02-30' },
    'igTrainingCompletedOn',
  ),
  ref(
    'user: accountEndsOn not a date',
    'put',
    '/v1/users/sw-2',
    { ...user(), accountEndsOn: 'end of March' },
    'accountEndsOn',
  ),
  ref(
    'user: teams not an array',
    'put',
    '/v1/users/sw-2',
    { ...user(), teams: 'adults-north' },
    'teams',
  ),
  ref('user: userId with spaces in the path', 'put', '/v1/users/sw%202', user(), 'userId'),

  // POST /v1/agreements
  ref(
    'agreement: unknown article6',
    'post',
    '/v1/agreements',
    { ...agreement, legalBasis: { ...legalBasis, article6: 'UK-GDPR-6-1-z' } },
    'legalBasis.article6',
  ),
  ref(
    'agreement: unknown article9',
    'post',
    '/v1/agreements',
    { ...agreement, legalBasis: { ...legalBasis, article9: 'UK-GDPR-9-2-z' } },
    'legalBasis.article9',
  ),
  ref(
    'agreement: unknown statute',
    'post',
    '/v1/agreements',
    { ...agreement, legalBasis: { ...legalBasis, statutes: ['magna-carta-1215'] } },
    'legalBasis.statutes',
  ),
  ref(
    'agreement: validUntil before validFrom',
    'post',
    '/v1/agreements',
    { ...agreement, validUntil: '2025-01-01T00:00:00Z' },
    'validUntil',
  ),
  ref(
    'agreement: validFrom an impossible date',
    'post',
    '/v1/agreements',
    { ...agreement, validFrom: '2026-02-30T00:00:00Z' },
    'validFrom',
  ),
  ref(
    "agreement: party 'kind:spaceship'",
    'post',
    '/v1/agreements',
    { ...agreement, parties: ['kind:spaceship'] },
    'parties',
  ),
  ref(
    "agreement: status 'approved'",
    'post',
    '/v1/agreements',
    { ...agreement, status: 'approved' },
    'status',
  ),
  ref(
    'agreement: empty purposes',
    'post',
    '/v1/agreements',
    { ...agreement, purposes: [] },
    'purposes',
  ),
  ref(
    'agreement: legalBasis missing',
    'post',
    '/v1/agreements',
    without(agreement, 'legalBasis'),
    'legalBasis',
  ),

  // PATCH /v1/agreements/{agreementId}
  ref(
    'agreement change: id not a UUID',
    'patch',
    '/v1/agreements/not-a-uuid',
    { status: 'suspended' },
    'agreementId',
  ),
  ref(
    'agreement change: unknown status',
    'patch',
    `/v1/agreements/${AGREEMENT_ID}`,
    { status: 'approved' },
    'status',
  ),
  ref(
    'agreement change: merged validUntil before validFrom',
    'patch',
    '/v1/agreements/{existing}',
    { validUntil: '2025-01-01T00:00:00Z' },
    'validUntil',
  ),

  // POST /v1/relationships
  ref(
    'relationship: both userId and teamId',
    'post',
    '/v1/relationships',
    { ...relationship, teamId: 'adults-north' },
    'userId',
  ),
  ref(
    'relationship: neither userId nor teamId',
    'post',
    '/v1/relationships',
    without(relationship, 'userId'),
    'userId',
  ),
  ref(
    'relationship: bad subjectId',
    'post',
    '/v1/relationships',
    { ...relationship, subjectId: '9434765918' },
    'subjectId',
  ),
  ref(
    'relationship: type with spaces',
    'post',
    '/v1/relationships',
    { ...relationship, type: 'allocated worker' },
    'type',
  ),
  ref(
    'relationship: validUntil before validFrom',
    'post',
    '/v1/relationships',
    { ...relationship, validUntil: '2025-01-01T00:00:00Z' },
    'validUntil',
  ),
  ref(
    'relationship: validFrom an impossible date',
    'post',
    '/v1/relationships',
    { ...relationship, validFrom: '2026-02-31T00:00:00Z' },
    'validFrom',
  ),

  // POST /v1/access-grants
  ref(
    'access grant: unknown purpose',
    'post',
    '/v1/access-grants',
    { ...grant, purpose: 'marketing' },
    'purpose',
  ),
  ref(
    'access grant: validUntil in the past',
    'post',
    '/v1/access-grants',
    { ...grant, validUntil: '2020-01-01T00:00:00Z' },
    'validUntil',
  ),
  ref(
    'access grant: validUntil not a date',
    'post',
    '/v1/access-grants',
    { ...grant, validUntil: 'next month' },
    'validUntil',
  ),
  ref(
    'access grant: validUntil an impossible date',
    'post',
    '/v1/access-grants',
    { ...grant, validUntil: '2030-02-31T00:00:00Z' },
    'validUntil',
  ),
];

const COUNTS = `SELECT (SELECT count(*)::int FROM gateway.decisions) AS decisions,
                       (SELECT count(*)::int FROM gateway.agreements) AS agreements,
                       (SELECT count(*)::int FROM gateway.relationships) AS relationships,
                       (SELECT count(*)::int FROM gateway.access_grants) AS access_grants,
                       (SELECT count(*)::int FROM gateway.outbox) AS outbox`;

describe('sharing gateway: bad input gets a 400 naming the field, and nothing is stored', () => {
  let db: { url: string; drop: () => Promise<void> };
  let app: NestFastifyApplication;
  let ds: DataSource;
  let before: Record<string, number>;
  /** An agreement stored before the cases run, for changes that would make it invalid. */
  let existing: string;
  const token = (sub: string, roles: Role[]) => tokenFor(testDataDir(), { sub, org: 'X26', roles });
  const bearer: Record<Who, string> = {
    worker: token('sw-1', ['social_worker']),
    admin: token('admin-1', ['admin', 'ig_officer']),
  };
  const counts = async (): Promise<Record<string, number>> => {
    const [row] = await ds.query(COUNTS);
    return row;
  };
  const send = (
    who: Who,
    method: Method,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const req = request(app.getHttpServer())
      [method](path)
      .set('Authorization', `Bearer ${bearer[who]}`)
      .set(headers);
    return body === undefined ? req : req.send(body as object);
  };

  beforeAll(async () => {
    db = await createTestDatabase('gatewaybad');
    app = await bootGateway(db.url);
    ds = app.get(DataSource);
    await send('admin', 'put', '/v1/organisations/X26', {
      name: 'Northshire Council',
      kind: 'local-authority',
      country: 'GB',
    }).expect(200);
    await send('admin', 'put', '/v1/users/sw-1', user()).expect(200);
    existing = (await send('admin', 'post', '/v1/agreements', agreement).expect(201)).body
      .agreementId;
    before = await counts();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('has at least 45 cases', () => expect(cases.length).toBeGreaterThanOrEqual(45));

  it.each(cases)('%s', async (_name, who, method, path, body, field, headers) => {
    const stored = await counts();
    const res = await send(who, method, path.replace('{existing}', existing), body, headers);
    const size = body === undefined ? 0 : JSON.stringify(body).length;
    if (res.status === 413 && size >= 1_000_000) {
      // A body over fastify's limit is refused before validation, still in the API's error shape.
      expect(res.body).toMatchObject({ statusCode: 413, error: 'PAYLOAD_TOO_LARGE' });
    } else {
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 400,
        error: 'VALIDATION_FAILED',
      });
      expect(res.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
      expect(res.body.details).toEqual(
        expect.arrayContaining([{ field: expect.any(String), problem: expect.any(String) }]),
      );
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await counts()).toEqual(stored);
  });

  it('stored nothing for all the bad requests', async () => {
    expect(await counts()).toEqual(before);
  });

  it('still accepts the valid bodies the cases were derived from', async () => {
    await send('worker', 'post', '/v1/decisions', decision).expect(200);
    await send('worker', 'post', '/v1/decisions', { ...decision, breakGlass }).expect(200);
    const read = await send('worker', 'get', `/v1/subjects/${PERSON}/record?${VALID_QUERY}`);
    expect([200, 403]).toContain(read.status);
    await send('admin', 'put', '/v1/organisations/RX1', organisation).expect(200);
    await send('admin', 'put', '/v1/users/sw-2', user()).expect(200);
    const created = await send('admin', 'post', '/v1/agreements', agreement).expect(201);
    await send('admin', 'patch', `/v1/agreements/${created.body.agreementId}`, {
      status: 'suspended',
    }).expect(200);
    await send('admin', 'post', '/v1/relationships', relationship).expect(201);
    await send('admin', 'post', '/v1/access-grants', grant).expect(201);
  });
});
