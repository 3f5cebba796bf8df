import { Module } from '@nestjs/common';
import { AuditEventController } from './audit-event.controller';

/** FHIR R4 views of the log (AuditEvent). */
@Module({ controllers: [AuditEventController] })
export class FhirModule {}
