import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import type { Logger, Role } from '#common';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootGateway } from '../support/gateway-app';
import { describeKafka, startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(120_000);

const PERSON = '9434765919';
const token = (sub: string, roles: Role[], org: string) =>
  tokenFor(testDataDir(), { sub, org, roles });

describeKafka('sharing gateway on the Kafka transport', () => {
  let mock: KafkaMock;
  let db: { url: string; drop: () => Promise<void> };
  let consent: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  let consentRunning = true;

  beforeAll(async () => {
    mock = await startKafkaMock();
    db = await createTestDatabase('gatewaykafka');
    const kafkaEnv = {
      KAFKA_BROKERS: mock.brokers.join(','),
      KAFKA_IDEMPOTENT: 'false',
      KAFKA_SESSION_TIMEOUT_MS: '3000',
      KAFKA_MAX_WAIT_MS: '100',
      KAFKA_WATERMARK_INTERVAL_MS: '200',
      TRANSPORT_POLL_INTERVAL_MS: '20',
    };
    ({ app: consent } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      env: kafkaEnv,
      appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
    }));
    gateway = await bootGateway(db.url, { ...kafkaEnv, CONSENT_MAX_STALENESS_MS: '1500' });
  });

  afterAll(async () => {
    await gateway?.close();
    if (consentRunning) await consent?.close();
    await db?.drop();
    await mock?.stop();
  });

  const decide = async () =>
    (
      await request(gateway.getHttpServer())
        .post('/v1/decisions')
        .set('Authorization', `Bearer ${token('house-1', ['practitioner'], 'HOUSE1')}`)
        .send({ subjectId: PERSON, purposeOfUse: 'direct-care', dataCategories: ['care-plan'] })
        .expect(200)
    ).body as { outcome: string; denied: { reasons: { code: string }[] }[] };
  const worker = token('sw-1', ['social_worker'], 'X26');
  const grantConsent = () =>
    request(consent.getHttpServer())
      .post(`/v1/subjects/${PERSON}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        decision: 'granted',
        purposes: ['direct-care'],
        recipients: ['HOUSE1'],
        dataCategories: ['care-plan'],
        capture: { method: 'verbal', givenBy: 'subject', capacity: 'has-capacity' },
      })
      .expect(201);
  const reasonOf = async () => (await decide()).denied[0]?.reasons[0]?.code;

  it('builds its consent replica from Kafka: consent permits, withdrawal denies', async () => {
    const admin = token('admin-1', ['admin', 'ig_officer'], 'X26');
    const gw = () => request(gateway.getHttpServer());
    const put = (path: string, body: object) =>
      gw().put(path).set('Authorization', `Bearer ${admin}`).send(body).expect(200);
    await put('/v1/organisations/HOUSE1', { name: 'Housing', kind: 'housing', country: 'GB' });
    await put('/v1/users/house-1', {
      org: 'HOUSE1',
      roles: ['practitioner'],
      teams: [],
      igTrainingCompletedOn: new Date().toISOString().slice(0, 10),
    });
    await gw()
      .post('/v1/agreements')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        title: 'Housing support, with consent',
        parties: ['HOUSE1'],
        roles: ['practitioner'],
        purposes: ['direct-care'],
        dataCategories: ['care-plan'],
        legalBasis: { article6: 'UK-GDPR-6-1-a', statutes: [] },
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        status: 'active',
      })
      .expect(201);
    await gw()
      .post('/v1/relationships')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        userId: 'house-1',
        subjectId: PERSON,
        type: 'housing-officer',
        validFrom: '2026-01-01T00:00:00Z',
      })
      .expect(201);

    // Until the consumer has joined its group and read to the end, the replica is stale.
    await waitFor(async () => (await reasonOf()) === 'no-consent', 60_000, 'a current replica');
    const granted = await grantConsent();
    await waitFor(
      async () => (await decide()).outcome === 'permit',
      30_000,
      'permit after consent',
    );
    await request(consent.getHttpServer())
      .post(`/v1/subjects/${PERSON}/consents/${granted.body.consentId}/withdrawal`)
      .set('Authorization', `Bearer ${worker}`)
      .send({ reason: 'No longer wants housing to see it' })
      .expect(200);
    await waitFor(
      async () => (await reasonOf()) === 'consent-withdrawn',
      30_000,
      'deny after withdrawal',
    );
  });

  // Reaching the end of the topic says nothing of what the consent service has not published:
  // the replica counts only from the relay's watermarks, and is stale when they stop coming.
  it('denies with consent-state-stale while a consent change waits behind a long-running transaction', async () => {
    const held = new Client({ connectionString: db.url });
    await held.connect();
    try {
      await held.query('BEGIN');
      await held.query('SELECT pg_current_xact_id()');
      await grantConsent();
      await new Promise((r) => setTimeout(r, 2500));
      expect(await reasonOf()).toBe('consent-state-stale');
    } finally {
      await held.query('ROLLBACK');
      await held.end();
    }
    await waitFor(async () => (await decide()).outcome === 'permit', 30_000, 'the new consent');
  });

  it('denies with consent-state-stale once the consent service stops publishing', async () => {
    expect((await decide()).outcome).toBe('permit');
    consentRunning = false;
    await consent.close();
    await new Promise((r) => setTimeout(r, 2500));
    expect(await reasonOf()).toBe('consent-state-stale');
  });
});
