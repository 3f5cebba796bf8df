import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '#common';
import { AppModule } from '../../apps/audit-service/src/app.module';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { AuditServiceEnv } from '../../apps/audit-service/src/config/env';
import { bootServiceForTest } from './service-app';

/** The audit service in-process on an existing database (migrated here). */
export async function bootAudit(
  url: string,
  env: Record<string, string> = {},
): Promise<NestFastifyApplication> {
  const { app } = await bootServiceForTest({
    definition: AuditServiceDefinition,
    envSchema: AuditServiceEnv,
    url,
    env: { TRANSPORT_POLL_INTERVAL_MS: '20', TREE_HEAD_INTERVAL_MS: '200', ...env },
    appModule: (c: AuditServiceEnv, l: Logger) => AppModule.forRoot(c, l),
  });
  return app;
}
