import { type DynamicModule, Module } from '@nestjs/common';
import { MeController, ServiceCoreModule, type Logger } from '#common';
import { AuditServiceDefinition } from './audit-service.definition';
import type { AuditServiceEnv } from './config/env';
import { LogModule } from './log/log.module';
import { ReportsModule } from './reports/reports.module';
import { NotificationsModule } from './notifications/notifications.module';
import { FhirModule } from './fhir/fhir.module';

/** The audit-service application: the shared service core plus this service's features. */
@Module({})
export class AppModule {
  static forRoot(config: AuditServiceEnv, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(AuditServiceDefinition, config, logger),
        LogModule,
        ReportsModule,
        NotificationsModule,
        FhirModule,
      ],
      controllers: [MeController],
    };
  }
}
