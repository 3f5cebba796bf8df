import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import { createServiceDataSource, runMigrations } from '#common';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootGateway } from '../support/gateway-app';
import { createTestDatabase } from '../support/test-database';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(60_000);

/**
 * A gateway that has just started must not take traffic before its consent replica is known to
 * be current, or its first answers would all be consent-state-stale; once it has been current it
 * stays in service, because public-task sharing must not stop with the consent feed.
 */
describe('sharing gateway readiness and the consent replica', () => {
  let db: { url: string; drop: () => Promise<void> };
  let gateway: NestFastifyApplication | undefined;
  let locker: Client;

  /** Holds an exclusive lock on the consent outbox: the replica's reads wait behind it. */
  const blockConsentFeed = async (): Promise<void> => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE consent.outbox IN ACCESS EXCLUSIVE MODE');
  };
  const releaseConsentFeed = async (): Promise<void> => {
    await locker.query('ROLLBACK');
  };
  const replicaAgeMs = async (): Promise<number | null> => {
    const { rows } = await locker.query<{ age: string | null }>(
      `SELECT (extract(epoch FROM clock_timestamp() - caught_up_at) * 1000)::text AS age
         FROM gateway.consent_replica_status WHERE id = 1`,
    );
    return rows[0]?.age == null ? null : Number(rows[0].age);
  };

  beforeAll(async () => {
    db = await createTestDatabase('ready');
    // The consent service's schema (and so its outbox) exists, as in a real deployment.
    await runMigrations(
      createServiceDataSource({
        url: db.url,
        schema: ConsentServiceDefinition.schema,
        migrations: ConsentServiceDefinition.migrations,
        poolSize: 2,
      }),
      ConsentServiceDefinition.schema,
    );
    locker = new Client({ connectionString: db.url });
    await locker.connect();
  });

  afterAll(async () => {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
    await gateway?.close();
    await db.drop();
  });

  it('is not ready until the replica has caught up once, then stays ready while it lags', async () => {
    await blockConsentFeed();
    try {
      gateway = await bootGateway(db.url, { CONSENT_MAX_STALENESS_MS: '1000' });
      const waiting = await request(gateway.getHttpServer()).get('/health/ready').expect(503);
      expect(waiting.body).toMatchObject({ statusCode: 503, error: 'NOT_READY' });
      expect(waiting.body.details).toEqual([
        { field: 'consentReplica', problem: 'the consent replica has not caught up yet' },
      ]);
    } finally {
      await releaseConsentFeed();
    }
    const app = gateway;
    await waitFor(
      async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200,
      10_000,
      'the gateway to become ready once the replica caught up',
    );
    expect(await replicaAgeMs()).toBeLessThan(1000);

    // The feed stops for longer than the staleness bound: consent-dependent categories are
    // denied as stale (gateway-decisions tests), but the gateway stays in service.
    await blockConsentFeed();
    try {
      await waitFor(
        async () => ((await replicaAgeMs()) ?? 0) > 1500,
        10_000,
        'the replica to fall behind',
      );
      const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { database: 'up', transport: 'up' },
      });
    } finally {
      await releaseConsentFeed();
    }
  });
});
