import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '#common';
import { AppModule } from '../../apps/sharing-gateway/src/app.module';
import { SharingGatewayEnv } from '../../apps/sharing-gateway/src/config/env';
import { SharingGatewayDefinition } from '../../apps/sharing-gateway/src/sharing-gateway.definition';
import { bootServiceForTest } from './service-app';

/** The sharing gateway in-process on an existing database (migrated here). */
export async function bootGateway(
  url: string,
  env: Record<string, string> = {},
): Promise<NestFastifyApplication> {
  const { app } = await bootServiceForTest({
    definition: SharingGatewayDefinition,
    envSchema: SharingGatewayEnv,
    url,
    env: { TRANSPORT_POLL_INTERVAL_MS: '20', ...env },
    appModule: (c: SharingGatewayEnv, l: Logger) => AppModule.forRoot(c, l),
  });
  return app;
}
