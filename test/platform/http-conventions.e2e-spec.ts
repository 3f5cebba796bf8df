import { Body, Controller, Get, Module, Post, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsIn, IsString, MinLength, ValidateNested } from 'class-validator';
import request from 'supertest';
import { Client } from 'pg';
import { DataSource, type QueryRunner } from 'typeorm';
import {
  createTransportTables,
  DomainError,
  PURPOSES,
  Roles,
  ServiceCoreModule,
  SERVICE_SCHEMAS,
  TOPICS,
  CommonEnv,
  type Logger,
  type ServiceDefinition,
} from '#common';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase, testServerUrl } from '../support/test-database';
import { tokenFor } from '../support/tokens';

class CaptureDto {
  @IsIn(['verbal', 'written', 'electronic'])
  method!: string;
}

class ExampleDto {
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(PURPOSES, { each: true })
  purposes!: string[];

  @IsString()
  @MinLength(20)
  reason!: string;

  @ValidateNested()
  @Type(() => CaptureDto)
  capture!: CaptureDto;
}

@Controller('v1/examples')
class ExampleController {
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @Roles('social_worker')
  create(@Body() body: ExampleDto): { ok: true; purposes: string[] } {
    return { ok: true, purposes: body.purposes };
  }

  @Post('withdrawn')
  @Roles('social_worker')
  withdrawTwice(): never {
    throw new DomainError('CONSENT_ALREADY_WITHDRAWN', 'This consent was already withdrawn.');
  }

  @Get('count')
  @Roles('social_worker')
  async count(): Promise<{ n: number }> {
    const [row] = await this.dataSource.query('SELECT count(*)::int AS n FROM consent.outbox');
    return row;
  }
}

const definition: ServiceDefinition = {
  name: 'conventions-test',
  schema: SERVICE_SCHEMAS.consent,
  topic: TOPICS.consent,
  title: 'conventions test',
  description: 'test',
  migrations: [],
};

@Module({})
class TestAppModule {
  static forRoot(config: CommonEnv, logger: Logger): DynamicModule {
    return {
      module: TestAppModule,
      imports: [ServiceCoreModule.forRoot(definition, config, logger)],
      controllers: [ExampleController],
    };
  }
}

jest.setTimeout(60_000);

describe('HTTP conventions shared by every service', () => {
  let db: { url: string; drop: () => Promise<void> };
  let app: NestFastifyApplication;
  const worker = tokenFor(testDataDir(), { sub: 'sw-1', org: 'X26', roles: ['social_worker'] });
  const officer = tokenFor(testDataDir(), { sub: 'ig-1', org: 'X26', roles: ['ig_officer'] });

  beforeAll(async () => {
    db = await createTestDatabase('conventions');
    ({ app } = await bootServiceForTest({
      definition: {
        ...definition,
        migrations: [
          class ConventionsTables1763800000001 {
            name = 'ConventionsTables1763800000001';
            async up(runner: QueryRunner): Promise<void> {
              await createTransportTables(runner, 'consent');
            }
            async down(): Promise<void> {}
          },
        ],
      },
      envSchema: CommonEnv,
      url: db.url,
      appModule: TestAppModule.forRoot,
    }));
  });

  afterAll(async () => {
    await app?.close();
    await db.drop();
  });

  it('lists each bad field of a request, nested ones by path', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/examples')
      .set('Authorization', `Bearer ${worker}`)
      .send({
        purposes: ['direct-care', 'marketing'],
        reason: 'short',
        capture: { method: 'telepathy' },
        extra: 1,
      })
      .expect(400);
    expect(res.body.statusCode).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    const fields = res.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining(['purposes', 'reason', 'capture.method', 'extra']),
    );
    expect(res.body.message).toMatch(/purposes/);
  });

  it('accepts a valid request', async () => {
    await request(app.getHttpServer())
      .post('/v1/examples')
      .set('Authorization', `Bearer ${worker}`)
      .send({
        purposes: ['direct-care'],
        reason: 'a reason that is long enough',
        capture: { method: 'verbal' },
      })
      .expect(201, { ok: true, purposes: ['direct-care'] });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/examples')
      .set('Authorization', `Bearer ${worker}`)
      .set('Content-Type', 'application/json')
      .send('{"purposes": [')
      .expect(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'VALIDATION_FAILED',
      message: expect.stringMatching(/not valid JSON/),
    });
  });

  it('maps a domain rule violation to 422 with its stable code', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/examples/withdrawn')
      .set('Authorization', `Bearer ${worker}`)
      .expect(422);
    expect(res.body).toEqual(
      expect.objectContaining({
        statusCode: 422,
        error: 'CONSENT_ALREADY_WITHDRAWN',
        message: 'This consent was already withdrawn.',
        details: [],
      }),
    );
  });

  it('answers 403 naming the roles required when the role may not act', async () => {
    const res = await request(app.getHttpServer())
      .get('/v1/examples/count')
      .set('Authorization', `Bearer ${officer}`)
      .expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: expect.any(String), details: [] });
    expect(res.body.message).toMatch(/social_worker/);
  });

  it('fails closed with 503 and reports not ready when the database goes away', async () => {
    await request(app.getHttpServer())
      .get('/v1/examples/count')
      .set('Authorization', `Bearer ${worker}`)
      .expect(200, { n: 0 });
    const name = new URL(db.url).pathname.slice(1);
    const admin = new Client({ connectionString: testServerUrl() });
    await admin.connect();
    // Refuse new connections and end the service's existing ones: the database is "down".
    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
      name,
    ]);
    try {
      const res = await request(app.getHttpServer())
        .get('/v1/examples/count')
        .set('Authorization', `Bearer ${worker}`)
        .expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'SERVICE_UNAVAILABLE' });
      const ready = await request(app.getHttpServer()).get('/health/ready').expect(503);
      expect(ready.body.details).toEqual([expect.objectContaining({ field: 'database' })]);
    } finally {
      await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // and recovers by itself once the database is back
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });
});
