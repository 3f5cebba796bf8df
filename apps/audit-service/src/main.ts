import 'reflect-metadata';
import { runService } from '#common';
import { AppModule } from './app.module';
import { AuditServiceEnv, environment } from './config/env';
import { AuditServiceDefinition } from './audit-service.definition';

void runService({
  definition: AuditServiceDefinition,
  envSchema: AuditServiceEnv,
  env: environment(),
  appModule: (config, logger) => AppModule.forRoot(config, logger),
});
