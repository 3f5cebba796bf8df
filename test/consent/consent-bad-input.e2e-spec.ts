import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bootConsentService } from '../support/consent-app';
import { testDataDir } from '../support/service-app';
import { tokenFor } from '../support/tokens';

jest.setTimeout(120_000);

const PERSON = '9434765919';
const CONSENT = '0b7c2a39-9b1a-4c39-9d35-6f1c2f1e1a11';
const valid = {
  decision: 'granted',
  purposes: ['direct-care'],
  recipients: ['RJ1', 'kind:local-authority'],
  dataCategories: ['care-plan'],
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2030-01-01T00:00:00Z',
  capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
};
const huge = 'x'.repeat(1_000_000);
const without = (key: string) =>
  Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));

type Case = [name: string, method: 'post' | 'put', path: string, body: unknown, field: string];
const consents = `/v1/subjects/${PERSON}/consents`;
const cases: Case[] = [
  [
    'NHS number with a wrong check digit',
    'post',
    '/v1/subjects/9434765918/consents',
    valid,
    'subjectId',
  ],
  ['NHS number too short', 'post', '/v1/subjects/943476591/consents', valid, 'subjectId'],
  ['NHS number with letters', 'post', '/v1/subjects/94347659AB/consents', valid, 'subjectId'],
  ['ten equal digits', 'post', '/v1/subjects/1111111111/consents', valid, 'subjectId'],
  ['missing decision', 'post', consents, without('decision'), 'decision'],
  ['unknown decision', 'post', consents, { ...valid, decision: 'maybe' }, 'decision'],
  ['missing purposes', 'post', consents, without('purposes'), 'purposes'],
  ['empty purposes', 'post', consents, { ...valid, purposes: [] }, 'purposes'],
  ['unknown purpose', 'post', consents, { ...valid, purposes: ['marketing'] }, 'purposes'],
  ['purposes not an array', 'post', consents, { ...valid, purposes: 'direct-care' }, 'purposes'],
  [
    'duplicate purposes',
    'post',
    consents,
    { ...valid, purposes: ['research', 'research'] },
    'purposes',
  ],
  ['missing recipients', 'post', consents, without('recipients'), 'recipients'],
  [
    'recipient neither ODS code nor kind',
    'post',
    consents,
    { ...valid, recipients: ['the council'] },
    'recipients',
  ],
  [
    'unknown organisation kind',
    'post',
    consents,
    { ...valid, recipients: ['kind:bank'] },
    'recipients',
  ],
  ['recipient a number', 'post', consents, { ...valid, recipients: [42] }, 'recipients'],
  ['missing dataCategories', 'post', consents, without('dataCategories'), 'dataCategories'],
  [
    'unknown category',
    'post',
    consents,
    { ...valid, dataCategories: ['genome'] },
    'dataCategories',
  ],
  [
    'category wrong case',
    'post',
    consents,
    { ...valid, dataCategories: ['Care-Plan'] },
    'dataCategories',
  ],
  [
    'validUntil before validFrom',
    'post',
    consents,
    { ...valid, validUntil: '2025-01-01T00:00:00Z' },
    'validUntil',
  ],
  [
    'validUntil equal to validFrom',
    'post',
    consents,
    { ...valid, validUntil: valid.validFrom },
    'validUntil',
  ],
  ['validFrom not a date', 'post', consents, { ...valid, validFrom: 'next tuesday' }, 'validFrom'],
  [
    'validUntil impossible date',
    'post',
    consents,
    { ...valid, validUntil: '2030-02-31T00:00:00Z' },
    'validUntil',
  ],
  ['validFrom a number', 'post', consents, { ...valid, validFrom: 1767225600000 }, 'validFrom'],
  ['missing capture', 'post', consents, without('capture'), 'capture'],
  ['capture not an object', 'post', consents, { ...valid, capture: 'verbal' }, 'capture'],
  [
    'unknown capture method',
    'post',
    consents,
    { ...valid, capture: { ...valid.capture, method: 'telepathy' } },
    'capture.method',
  ],
  [
    'unknown givenBy',
    'post',
    consents,
    { ...valid, capture: { ...valid.capture, givenBy: 'neighbour' } },
    'capture.givenBy',
  ],
  [
    'unknown capacity',
    'post',
    consents,
    { ...valid, capture: { ...valid.capture, capacity: 'unsure' } },
    'capture.capacity',
  ],
  [
    'extra field in capture',
    'post',
    consents,
    { ...valid, capture: { ...valid.capture, witness: 'x' } },
    'capture.witness',
  ],
  ['1 MB notes', 'post', consents, { ...valid, notes: huge }, 'notes'],
  ['1 MB evidenceRef', 'post', consents, { ...valid, evidenceRef: huge }, 'evidenceRef'],
  [
    '1 MB proxyName',
    'post',
    consents,
    { ...valid, capture: { ...valid.capture, proxyName: huge } },
    'capture.proxyName',
  ],
  ['notes a number', 'post', consents, { ...valid, notes: 12 }, 'notes'],
  ['extra top-level field', 'post', consents, { ...valid, consentId: CONSENT }, 'consentId'],
  ['body an array', 'post', consents, [valid], 'decision'],
  ['withdrawal without a reason', 'post', `${consents}/${CONSENT}/withdrawal`, {}, 'reason'],
  [
    'withdrawal with a blank reason',
    'post',
    `${consents}/${CONSENT}/withdrawal`,
    { reason: '   ' },
    'reason',
  ],
  [
    'withdrawal with a 1 MB reason',
    'post',
    `${consents}/${CONSENT}/withdrawal`,
    { reason: huge },
    'reason',
  ],
  [
    'withdrawal of a consent id that is not a UUID',
    'post',
    `${consents}/not-a-uuid/withdrawal`,
    { reason: 'r' },
    'consentId',
  ],
  [
    'objection with unknown category',
    'post',
    `/v1/subjects/${PERSON}/objections`,
    { purposes: ['direct-care'], recipients: ['RJ1'], dataCategories: ['x'], reason: 'r' },
    'dataCategories',
  ],
  [
    'objection without reason',
    'post',
    `/v1/subjects/${PERSON}/objections`,
    { purposes: ['direct-care'], recipients: ['RJ1'], dataCategories: ['care-plan'] },
    'reason',
  ],
  [
    'decision with unknown outcome',
    'post',
    `/v1/subjects/${PERSON}/objections/${CONSENT}/decision`,
    { outcome: 'maybe', reason: 'r' },
    'outcome',
  ],
  [
    'opt-out not a boolean',
    'put',
    `/v1/subjects/${PERSON}/national-opt-out`,
    { optedOut: 'yes' },
    'optedOut',
  ],
  ['opt-out missing', 'put', `/v1/subjects/${PERSON}/national-opt-out`, {}, 'optedOut'],
  [
    'contact channel unknown',
    'put',
    `/v1/subjects/${PERSON}/contact-preferences`,
    { channel: 'pigeon' },
    'channel',
  ],
  [
    'contact email invalid',
    'put',
    `/v1/subjects/${PERSON}/contact-preferences`,
    { channel: 'email', email: 'not-an-email' },
    'email',
  ],
  [
    'contact phone not UK mobile',
    'put',
    `/v1/subjects/${PERSON}/contact-preferences`,
    { channel: 'sms', phone: '+15551234567' },
    'phone',
  ],
  [
    'proxy of unknown kind',
    'post',
    `/v1/subjects/${PERSON}/proxies`,
    { kind: 'friend', name: 'A', reference: 'R', validFrom: '2025-01-01T00:00:00Z' },
    'kind',
  ],
  [
    'proxy validUntil before validFrom',
    'post',
    `/v1/subjects/${PERSON}/proxies`,
    {
      kind: 'deputy',
      name: 'A',
      reference: 'R',
      validFrom: '2025-01-01T00:00:00Z',
      validUntil: '2024-01-01T00:00:00Z',
    },
    'validUntil',
  ],
];

describe('consent service: bad input gets a 400 naming the field, and nothing is recorded', () => {
  let stop: () => Promise<void>;
  let app: NestFastifyApplication;
  let ds: DataSource;
  const worker = tokenFor(testDataDir(), {
    sub: 'sw-1',
    org: 'X26',
    roles: ['social_worker', 'practitioner', 'ig_officer'],
  });

  beforeAll(async () => {
    ({ app, stop } = await bootConsentService('consentbad'));
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await stop?.();
  });

  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it.each(cases)('%s', async (_name, method, path, body, field) => {
    const res = await request(app.getHttpServer())
      [method](path)
      .set('Authorization', `Bearer ${worker}`)
      .send(body as object);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    const [{ events, outbox }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM consent.events) AS events, (SELECT count(*)::int FROM consent.outbox) AS outbox`,
    );
    expect({ events, outbox }).toEqual({ events: 0, outbox: 0 });
  });

  it('still accepts the valid body the cases were derived from', async () => {
    await request(app.getHttpServer())
      .post(consents)
      .set('Authorization', `Bearer ${worker}`)
      .send(valid)
      .expect(201);
  });
});
