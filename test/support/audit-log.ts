import type { DataSource } from 'typeorm';
import { createServiceDataSource, runMigrations } from '#common';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import type { EntryContent } from '../../apps/audit-service/src/log/ingest/entry-from-event';

/** The audit service's migrations, in order. */
export const AUDIT_MIGRATIONS = AuditServiceDefinition.migrations as (new () => unknown)[];

/**
 * A data source on the audit schema of `url` with `migrations` (all by default) applied, as
 * the service's own migration step applies them.
 */
export async function migratedAuditDataSource(
  url: string,
  migrations: (new () => unknown)[] = AUDIT_MIGRATIONS,
): Promise<DataSource> {
  const ds = createServiceDataSource({
    url,
    schema: AuditServiceDefinition.schema,
    migrations,
    poolSize: 2,
    applicationName: 'audit-log-test',
  });
  await ds.initialize();
  await runMigrations(ds, AuditServiceDefinition.schema);
  return ds;
}

/** The content of log entry `n` (1-9): a decision about one person, with awkward characters. */
export function decisionEntry(n: number): EntryContent {
  return {
    at: `2026-11-0${n}T09:00:00.000Z`,
    actor: { userId: `sw-${n}`, org: 'X26', role: 'social_worker' },
    subjectId: '9434765919',
    action: 'gateway.decision',
    outcome: n % 2 === 0 ? 'permit' : 'deny',
    purpose: 'direct-care',
    categories: ['care-plan'],
    legalBasis: null,
    correlationId: `corr-${n}`,
    sourceEventId: `00000000-0000-4000-8000-00000000000${n}`,
    sourceType: 'gateway.decision.v1',
    details: { streamId: `decision-${n}`, streamVersion: 1, note: 'é ✓ "quoted" \\ \u0001' },
  };
}
