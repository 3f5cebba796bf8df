import { SERVICE_SCHEMAS, TOPICS, type ServiceDefinition } from '#common';
import { AuditTransportTables1763800000000 } from './migrations/1763800000000-transport-tables';

/** audit-service: its schema, its outbox topic and its migrations, in order. */
export const AuditServiceDefinition: ServiceDefinition = {
  name: 'audit-service',
  schema: SERVICE_SCHEMAS.audit,
  topic: TOPICS.audit,
  title: 'Care Consent Ledger: audit service',
  description:
    'The tamper-evident confidentiality access log with proofs, IG reports, the disclosure register and notices to service users.',
  migrations: [AuditTransportTables1763800000000],
};
