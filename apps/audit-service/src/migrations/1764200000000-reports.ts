import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The IG registers the confidentiality report reads (people who are staff of an organisation;
 * keyed hashes of surnames, never the names) and an index for reading accesses by period.
 * The registers are corrected in place, unlike the log: every change is itself logged.
 */
export class AuditReports1764200000000 implements MigrationInterface {
  name = 'AuditReports1764200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit.report_staff_subjects (
        subject_id text NOT NULL,
        org text NOT NULL,
        user_id text,
        version integer NOT NULL,
        marked_by text NOT NULL,
        marked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject_id, org)
      )`);
    await runner.query(`
      CREATE TABLE audit.report_surnames (
        kind text NOT NULL CHECK (kind IN ('user', 'subject')),
        id text NOT NULL,
        surname_hmac bytea NOT NULL CHECK (octet_length(surname_hmac) = 32),
        key_id text NOT NULL,
        version integer NOT NULL,
        set_by text NOT NULL,
        set_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, id)
      )`);
    // The confidentiality report and its daily volumes read accesses by time.
    await runner.query(`
      CREATE INDEX entries_access_at ON audit.entries (at)
       WHERE action IN ('record.disclosed', 'record.denied', 'access.decided')`);
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE ON audit.report_staff_subjects, audit.report_surnames TO audit_runtime`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX audit.entries_access_at`);
    await runner.query(`DROP TABLE audit.report_surnames`);
    await runner.query(`DROP TABLE audit.report_staff_subjects`);
  }
}
