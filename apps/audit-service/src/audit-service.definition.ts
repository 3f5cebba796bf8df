import { SERVICE_SCHEMAS, TOPICS, type ServiceDefinition } from '#common';
import { AuditTransportTables1763800000000 } from './migrations/1763800000000-transport-tables';
import { AuditLog1764100000000 } from './migrations/1764100000000-audit-log';
import { AuditReports1764200000000 } from './migrations/1764200000000-reports';
import { AuditNotifications1764300000000 } from './migrations/1764300000000-notifications';
import { AuditEntryCanonicalBytes1764450000000 } from './migrations/1764450000000-entry-canonical-bytes';
import { AuditEntryGeneratedFromBytes1764500000000 } from './migrations/1764500000000-entry-generated-from-bytes';
import { AuditKafkaState1764600000000 } from './migrations/1764600000000-kafka-state';
import { AuditOverrideIndexes1764700000000 } from './migrations/1764700000000-override-indexes';
import type { AuditServiceEnv } from './config/env';

/** audit-service: its schema, its outbox topic and its migrations, in order. */
export const AuditServiceDefinition: ServiceDefinition = {
  name: 'audit-service',
  schema: SERVICE_SCHEMAS.audit,
  topic: TOPICS.audit,
  title: 'Care Consent Ledger: audit service',
  description:
    'The tamper-evident confidentiality access log with proofs, IG reports, the disclosure register and notices to service users.',
  migrations: [
    AuditTransportTables1763800000000,
    AuditLog1764100000000,
    AuditReports1764200000000,
    AuditNotifications1764300000000,
    AuditEntryCanonicalBytes1764450000000,
    AuditEntryGeneratedFromBytes1764500000000,
    AuditKafkaState1764600000000,
    AuditOverrideIndexes1764700000000,
  ],
  // The log is written as a role that may only INSERT and SELECT it (AUDIT_DB_ROLE).
  runtimeRole: (config) => {
    const role = (config as AuditServiceEnv).AUDIT_DB_ROLE;
    return role && role !== 'none' ? role : null;
  },
};
