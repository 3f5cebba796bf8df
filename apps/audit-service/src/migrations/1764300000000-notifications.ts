import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * After-the-fact disclosure notices (Social Care Record Guarantee: tell people as soon as
 * possible when their information was shared without their consent).
 *
 * - `notifications`: one per safeguarding override (unique on the decision), its delivery
 *   state and the facts the notice states (codes and identifiers, never record content or
 *   the override's written reason). Its state changes in place; every change is also
 *   published as an `audit.notification.*` event, so the log keeps the history.
 * - `notification_deferrals`: an IG officer's decision to hold notices back, with the reason
 *   and review date. Append-only like the override reviews: a later deferral is a new row.
 * - `notification_contacts`: where each person wants notices sent, from consent events. Not
 *   append-only, deliberately: only the latest is kept and it is overwritten in place (and
 *   may be deleted), so an address a person has left — perhaps one they fled — is not kept
 *   for ever (UK GDPR Art. 5(1)(d) accuracy, 5(1)(e) storage limitation). The log holds only
 *   the channel.
 * - `notification_organisations`: organisation names from the gateway's reference data, so a
 *   notice can name who saw the record.
 */
export class AuditNotifications1764300000000 implements MigrationInterface {
  name = 'AuditNotifications1764300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit.notification_deferrals (
        id uuid PRIMARY KEY,
        notification_id uuid NOT NULL,
        subject_id text NOT NULL,
        reason text NOT NULL,
        review_by timestamptz NOT NULL,
        deferred_by text NOT NULL,
        deferred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE audit.notifications (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        decision_id uuid NOT NULL UNIQUE,
        subject_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'deferred')),
        facts jsonb NOT NULL,
        source_event_id uuid NOT NULL,
        correlation_id text NOT NULL,
        version integer NOT NULL DEFAULT 1,
        due_at timestamptz,
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        failure_reason text,
        channel text CHECK (channel IN ('email', 'sms', 'letter')),
        provider_reference text,
        sent_at timestamptz,
        deferral_id uuid REFERENCES audit.notification_deferrals (id),
        released_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'pending') = (due_at IS NOT NULL)),
        CHECK (status <> 'deferred' OR deferral_id IS NOT NULL),
        CHECK (status <> 'sent' OR sent_at IS NOT NULL),
        CHECK (status <> 'failed' OR failure_reason IS NOT NULL)
      )`);
    await runner.query(
      `CREATE INDEX notifications_due ON audit.notifications (due_at) WHERE status = 'pending'`,
    );
    await runner.query(
      `CREATE INDEX notifications_deferred ON audit.notifications (deferral_id) WHERE status = 'deferred'`,
    );
    await runner.query(`CREATE INDEX notifications_subject ON audit.notifications (subject_id)`);
    await runner.query(`CREATE INDEX notifications_status ON audit.notifications (status, seq)`);
    await runner.query(
      `CREATE INDEX notification_deferrals_review ON audit.notification_deferrals (review_by)`,
    );
    await runner.query(`
      CREATE TABLE audit.notification_contacts (
        subject_id text PRIMARY KEY,
        channel text NOT NULL CHECK (channel IN ('email', 'sms', 'letter')),
        email text,
        phone text,
        address text,
        stream_version integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE audit.notification_organisations (
        ods_code text PRIMARY KEY,
        name text NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TRIGGER notification_deferrals_append_only BEFORE UPDATE OR DELETE
      ON audit.notification_deferrals FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`);
    await runner.query(`
      CREATE TRIGGER notification_deferrals_no_truncate BEFORE TRUNCATE
      ON audit.notification_deferrals FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`);
    await runner.query(`GRANT SELECT, INSERT ON audit.notification_deferrals TO audit_runtime`);
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE ON audit.notifications, audit.notification_organisations TO audit_runtime`,
    );
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON audit.notification_contacts TO audit_runtime`,
    );
    await runner.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA audit TO audit_runtime`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE audit.notification_organisations`);
    await runner.query(`DROP TABLE audit.notification_contacts`);
    await runner.query(`DROP TABLE audit.notifications`);
    await runner.query(`DROP TABLE audit.notification_deferrals`);
  }
}
