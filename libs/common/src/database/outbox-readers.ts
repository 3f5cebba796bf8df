import type { QueryRunner } from 'typeorm';

/**
 * Lets consumers that run as a restricted role (the audit service's) read this service's
 * outbox over the PostgreSQL transport. The outbox holds only published events, meant to be
 * read by every consumer; nothing else in the schema is granted.
 */
export async function grantOutboxToReaders(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_event_reader') THEN
        CREATE ROLE ledger_event_reader NOLOGIN;
      END IF;
    END $$`);
  await runner.query(`GRANT USAGE ON SCHEMA "${schema}" TO ledger_event_reader`);
  await runner.query(`GRANT SELECT ON "${schema}".outbox TO ledger_event_reader`);
}

/** Reverses grantOutboxToReaders (the role stays: other databases may use it). */
export async function revokeOutboxFromReaders(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`REVOKE SELECT ON "${schema}".outbox FROM ledger_event_reader`);
  await runner.query(`REVOKE USAGE ON SCHEMA "${schema}" FROM ledger_event_reader`);
}
