import 'reflect-metadata';
import { runService } from '#common';
import { AppModule } from './app.module';
import { SharingGatewayEnv, environment } from './config/env';
import { SharingGatewayDefinition } from './sharing-gateway.definition';

void runService({
  definition: SharingGatewayDefinition,
  envSchema: SharingGatewayEnv,
  env: environment(),
  appModule: (config, logger) => AppModule.forRoot(config, logger),
});
