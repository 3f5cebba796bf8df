import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type { Logger } from '#common';
import { AppModule as AuditModule } from '../../apps/audit-service/src/app.module';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { AuditServiceEnv } from '../../apps/audit-service/src/config/env';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { SharingGatewayEnv } from '../../apps/sharing-gateway/src/config/env';
import { AppModule as GatewayModule } from '../../apps/sharing-gateway/src/app.module';
import { SharingGatewayDefinition } from '../../apps/sharing-gateway/src/sharing-gateway.definition';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';

jest.setTimeout(60_000);

const services = [
  {
    definition: ConsentServiceDefinition,
    envSchema: ConsentServiceEnv,
    appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
  },
  {
    definition: SharingGatewayDefinition,
    envSchema: SharingGatewayEnv,
    appModule: (c: SharingGatewayEnv, l: Logger) => GatewayModule.forRoot(c, l),
  },
  {
    definition: AuditServiceDefinition,
    envSchema: AuditServiceEnv,
    appModule: (c: AuditServiceEnv, l: Logger) => AuditModule.forRoot(c, l),
  },
] as const;

describe.each(services)('$definition.name platform', (service) => {
  let db: { url: string; drop: () => Promise<void> };
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase(service.definition.schema);
    ({ app } = await bootServiceForTest({
      definition: service.definition,
      envSchema: service.envSchema as new () => ConsentServiceEnv,
      url: db.url,
      appModule: service.appModule as (
        c: ConsentServiceEnv,
        l: Logger,
      ) => ReturnType<typeof ConsentModule.forRoot>,
    }));
  });

  afterAll(async () => {
    await app?.close();
    await db.drop();
  });

  it('is live and ready when its database is reachable', async () => {
    await request(app.getHttpServer()).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'up', transport: 'up' } });
  });

  it('serves Prometheus metrics labelled with the service and route pattern', async () => {
    await request(app.getHttpServer()).get('/health/live');
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const line = metrics.text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('http_request_duration_seconds_count') && l.includes('route="/health/live"'),
      );
    expect(line).toContain(`service="${service.definition.name}"`);
    expect(line).toContain('status="200"');
    expect(metrics.text).toContain('process_cpu_seconds_total');
  });

  it('publishes its OpenAPI document with bearer security', async () => {
    const doc = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.info.title).toBe(service.definition.title);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/health/ready', '/v1/me']),
    );
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const ui = await request(app.getHttpServer()).get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('echoes a caller’s correlation id and makes one when there is none', async () => {
    const given = await request(app.getHttpServer())
      .get('/health/live')
      .set('X-Correlation-Id', 'req-123.abc')
      .expect(200);
    expect(given.headers['x-correlation-id']).toBe('req-123.abc');
    const made = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(made.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await request(app.getHttpServer())
      .get('/health/live')
      .set('X-Correlation-Id', 'bad id\twith spaces')
      .expect(200);
    expect(unsafe.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 401 in the API error shape without a token, and who the caller is with one', async () => {
    const denied = await request(app.getHttpServer())
      .get('/v1/me')
      .set('X-Correlation-Id', 'corr-401')
      .expect(401);
    expect(denied.body).toMatchObject({
      statusCode: 401,
      error: expect.stringMatching(/^[A-Z_]+$/),
      message: expect.stringMatching(/token/i),
      details: [],
      correlationId: 'corr-401',
    });
    const token = tokenFor(testDataDir(), {
      sub: 'sw-1',
      org: 'X26',
      roles: ['social_worker'],
      teams: ['east'],
    });
    const me = await request(app.getHttpServer())
      .get('/v1/me')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(me.body).toMatchObject({
      userId: 'sw-1',
      org: 'X26',
      roles: ['social_worker'],
      teams: ['east'],
    });
  });

  it('answers unknown routes in the API error shape', async () => {
    const token = tokenFor(testDataDir(), { sub: 'a', org: 'X26', roles: ['admin'] });
    const missing = await request(app.getHttpServer())
      .get('/v1/no-such-thing')
      .set('Authorization', `Bearer ${token}`)
      .expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'NOT_FOUND', details: [] });
  });
});
