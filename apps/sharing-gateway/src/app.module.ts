import { type DynamicModule, Module } from '@nestjs/common';
import { MeController, ServiceCoreModule, type Logger } from '#common';
import type { SharingGatewayEnv } from './config/env';
import { DecisionsModule } from './decisions/decisions.module';
import { ReferenceModule } from './reference/reference.module';
import { SharingGatewayDefinition } from './sharing-gateway.definition';

/** The sharing-gateway application: the shared service core plus this service's features. */
@Module({})
export class AppModule {
  static forRoot(config: SharingGatewayEnv, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(SharingGatewayDefinition, config, logger),
        ReferenceModule,
        DecisionsModule,
      ],
      controllers: [MeController],
    };
  }
}
