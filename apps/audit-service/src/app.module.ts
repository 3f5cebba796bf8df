import { type DynamicModule, Module } from '@nestjs/common';
import { MeController, ServiceCoreModule, type Logger } from '#common';
import type { AuditServiceEnv } from './config/env';
import { AuditServiceDefinition } from './audit-service.definition';

/** The audit-service application: the shared service core plus this service's features. */
@Module({})
export class AppModule {
  static forRoot(config: AuditServiceEnv, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceCoreModule.forRoot(AuditServiceDefinition, config, logger)],
      controllers: [MeController],
    };
  }
}
