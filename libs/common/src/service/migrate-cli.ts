import type { CommonEnv } from '../config/common-env';
import { ConfigError, loadConfig } from '../config/load-config';
import { createServiceDataSource, runMigrations } from '../database/data-source.factory';
import { createLogger } from '../observability/logger';
import type { ServiceDefinition } from './service-definition';

/** Applies a service's pending migrations and exits; run before the service starts. */
export async function runMigrationsCli<E extends CommonEnv>(
  definition: ServiceDefinition,
  envSchema: new () => E,
  env: Record<string, string | undefined>,
): Promise<void> {
  let config: E;
  try {
    // PORT is irrelevant to migrations; default it so one DATABASE_URL is enough.
    config = loadConfig(envSchema, { PORT: '0', ...env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.name} migrations: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(`${definition.name}-migrations`, config.LOG_LEVEL);
  try {
    const applied = await runMigrations(
      createServiceDataSource({
        url: config.DATABASE_URL,
        schema: definition.schema,
        migrations: definition.migrations,
        poolSize: 2, // one holds the advisory lock, one runs the migrations
        applicationName: `${definition.name}-migrations`,
      }),
      definition.schema,
    );
    logger.info({ schema: definition.schema, applied }, `migrations applied: ${applied.length}`);
  } catch (error) {
    logger.fatal({ err: error }, 'migrations failed');
    process.exit(1);
  }
}
