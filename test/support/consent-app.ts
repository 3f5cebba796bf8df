import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '#common';
import { AppModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootServiceForTest } from './service-app';
import { createTestDatabase } from './test-database';

/** The consent service in-process on a fresh database; `stop` closes it and drops the database. */
export async function bootConsentService(
  prefix: string,
): Promise<{ app: NestFastifyApplication; stop: () => Promise<void> }> {
  const db = await createTestDatabase(prefix);
  const { app } = await bootServiceForTest({
    definition: ConsentServiceDefinition,
    envSchema: ConsentServiceEnv,
    url: db.url,
    appModule: (c: ConsentServiceEnv, l: Logger) => AppModule.forRoot(c, l),
  });
  return {
    app,
    stop: async () => {
      await app.close();
      await db.drop();
    },
  };
}
