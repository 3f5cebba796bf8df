import 'reflect-metadata';
import { runService } from '#common';
import { AppModule } from './app.module';
import { ConsentServiceEnv, environment } from './config/env';
import { ConsentServiceDefinition } from './consent-service.definition';

void runService({
  definition: ConsentServiceDefinition,
  envSchema: ConsentServiceEnv,
  env: environment(),
  appModule: (config, logger) => AppModule.forRoot(config, logger),
});
