import type { DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { CommonEnv } from '../config/common-env';
import { ConfigError, loadConfig } from '../config/load-config';
import { createLogger } from '../observability/logger';
import { createServiceApp } from './create-service-app';
import type { ServiceDefinition } from './service-definition';

/**
 * Starts a service process: validates configuration (exit 1 naming each bad variable), listens,
 * and on SIGTERM/SIGINT stops taking requests, finishes in-flight work and closes its pools.
 */
export async function runService<E extends CommonEnv>(options: {
  definition: ServiceDefinition;
  envSchema: new () => E;
  env: Record<string, string | undefined>;
  appModule: (config: E, logger: Logger) => DynamicModule;
}): Promise<void> {
  let config: E;
  try {
    config = loadConfig(options.envSchema, options.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.definition.name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(options.definition.name, config.LOG_LEVEL);
  try {
    const app = await createServiceApp(
      options.appModule(config, logger),
      options.definition,
      logger,
    );
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      setTimeout(() => {
        logger.error(
          { graceMs: config.SHUTDOWN_GRACE_MS },
          'shutdown grace period exceeded; exiting',
        );
        process.exit(1);
      }, config.SHUTDOWN_GRACE_MS).unref();
      app
        .close()
        .then(() => {
          logger.info('stopped');
          process.exit(0);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          process.exit(1);
        });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    await app.listen({ port: config.PORT, host: '0.0.0.0' });
    logger.info(
      { url: `http://localhost:${config.PORT}`, docs: `http://localhost:${config.PORT}/docs` },
      'listening',
    );
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
