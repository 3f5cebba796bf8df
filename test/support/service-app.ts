import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createLogger,
  createServiceApp,
  createServiceDataSource,
  loadConfig,
  runMigrations,
  type CommonEnv,
  type Logger,
  type ServiceDefinition,
} from '#common';

/** Migrates a service's schema in `url` and boots the service in-process for supertest. */
export async function bootServiceForTest<E extends CommonEnv>(options: {
  definition: ServiceDefinition;
  envSchema: new () => E;
  url: string;
  env?: Record<string, string>;
  appModule: (config: E, logger: Logger) => DynamicModule;
}): Promise<{ app: NestFastifyApplication; config: E }> {
  await runMigrations(
    createServiceDataSource({
      url: options.url,
      schema: options.definition.schema,
      migrations: options.definition.migrations,
      poolSize: 2,
    }),
    options.definition.schema,
  );
  const config = loadConfig(options.envSchema, {
    PORT: '0',
    DATABASE_URL: options.url,
    DATA_DIR: testDataDir(),
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  // TEST_LOG_LEVEL=debug shows a service's logs while investigating a failing test.
  const logger = createLogger(options.definition.name, process.env.TEST_LOG_LEVEL ?? 'silent');
  const app = await createServiceApp(options.appModule(config, logger), options.definition, logger);
  await untilReady(app);
  return { app, config };
}

/** Keys for tests live in their own directory, never in the developer's .data/. */
export function testDataDir(): string {
  return `${__dirname}/../../.data/test`;
}

/**
 * Waits a little for /health/ready, as a load balancer would before sending traffic (the
 * gateway is ready once its consent replica has caught up). Tests that boot a service without
 * its database or broker on purpose go on after the wait and see for themselves.
 */
async function untilReady(app: NestFastifyApplication, timeoutMs = 5_000): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fastify.inject({ method: 'GET', url: '/health/ready' });
    if (response.statusCode === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
