import { type DynamicModule, Module } from '@nestjs/common';
import { MeController, ServiceCoreModule, type Logger } from '#common';
import type { ConsentServiceEnv } from './config/env';
import { ConsentModule } from './consent/consent.module';
import { ConsentServiceDefinition } from './consent-service.definition';

/** The consent-service application: the shared service core plus this service's features. */
@Module({})
export class AppModule {
  static forRoot(config: ConsentServiceEnv, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceCoreModule.forRoot(ConsentServiceDefinition, config, logger), ConsentModule],
      controllers: [MeController],
    };
  }
}
