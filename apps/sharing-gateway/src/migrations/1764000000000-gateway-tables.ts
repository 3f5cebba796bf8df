import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reference data with its history, the consent replica, stored decisions and override windows.
 * Every table a decision reads carries the writing transaction's id, so a replay can see exactly
 * what the decision's snapshot saw (pg_visible_in_snapshot), not merely what was older.
 */
export class GatewayTables1764000000000 implements MigrationInterface {
  name = 'GatewayTables1764000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE gateway.organisations (
        ods_code text PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL,
        country text NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE gateway.users (
        user_id text PRIMARY KEY,
        org text NOT NULL,
        roles text[] NOT NULL,
        teams text[] NOT NULL,
        ig_training_completed_on date,
        account_ends_on date,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE gateway.agreements (
        agreement_id uuid PRIMARY KEY,
        title text NOT NULL,
        parties text[] NOT NULL,
        roles text[] NOT NULL,
        purposes text[] NOT NULL,
        data_categories text[] NOT NULL,
        legal_basis jsonb NOT NULL,
        valid_from timestamptz NOT NULL,
        valid_until timestamptz,
        status text NOT NULL,
        international_transfer_safeguards text,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX agreements_parties ON gateway.agreements USING gin (parties)`);
    await runner.query(`
      CREATE TABLE gateway.relationships (
        relationship_id uuid PRIMARY KEY,
        user_id text,
        team_id text,
        subject_id text NOT NULL,
        type text NOT NULL,
        valid_from timestamptz NOT NULL,
        valid_until timestamptz,
        ended_at timestamptz,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL,
        CHECK ((user_id IS NULL) <> (team_id IS NULL))
      )`);
    await runner.query(
      `CREATE INDEX relationships_subject ON gateway.relationships (subject_id) WHERE ended_at IS NULL`,
    );
    await runner.query(`
      CREATE TABLE gateway.access_grants (
        grant_id uuid PRIMARY KEY,
        user_id text NOT NULL,
        purpose text NOT NULL,
        valid_until timestamptz NOT NULL,
        approved_by text NOT NULL,
        view_only boolean NOT NULL DEFAULT true,
        recertified_at timestamptz NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX access_grants_user ON gateway.access_grants (user_id)`);
    // Every version of every reference record, for replaying a decision against the facts of
    // its time. subject_id / user_id let a replay read only the rows that can matter.
    await runner.query(`
      CREATE TABLE gateway.reference_history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        kind text NOT NULL,
        key text NOT NULL,
        version integer NOT NULL,
        subject_id text,
        user_id text,
        body jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (kind, key, version)
      )`);
    await runner.query(
      `CREATE INDEX reference_history_subject ON gateway.reference_history (subject_id) WHERE subject_id IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX reference_history_user ON gateway.reference_history (user_id) WHERE user_id IS NOT NULL`,
    );
    // The replica of people's consent state, built from consent.events.
    await runner.query(`
      CREATE TABLE gateway.consent_replica_events (
        subject_id text NOT NULL,
        stream_version integer NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (subject_id, stream_version)
      )`);
    await runner.query(`
      CREATE TABLE gateway.consent_replica (
        subject_id text PRIMARY KEY,
        stream_version integer NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE gateway.consent_replica_status (
        id integer PRIMARY KEY CHECK (id = 1),
        caught_up_at timestamptz,
        last_event_at timestamptz,
        applied_events bigint NOT NULL DEFAULT 0
      )`);
    await runner.query(`INSERT INTO gateway.consent_replica_status (id) VALUES (1)`);
    // Decisions are evidence: stored once with their inputs, never changed.
    await runner.query(`
      CREATE TABLE gateway.decisions (
        decision_id uuid PRIMARY KEY,
        decided_at timestamptz NOT NULL,
        subject_id text NOT NULL,
        requester_user_id text NOT NULL,
        caller_user_id text NOT NULL,
        outcome text NOT NULL,
        channel text NOT NULL,
        correlation_id text NOT NULL,
        body jsonb NOT NULL
      )`);
    await runner.query(
      `CREATE INDEX decisions_subject ON gateway.decisions (subject_id, decided_at)`,
    );
    await runner.query(`
      CREATE TABLE gateway.break_glass_windows (
        decision_id uuid PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        user_id text NOT NULL,
        subject_id text NOT NULL,
        statute text NOT NULL,
        opens_at timestamptz NOT NULL,
        closes_at timestamptz NOT NULL
      )`);
    await runner.query(
      `CREATE INDEX break_glass_windows_requester ON gateway.break_glass_windows (user_id, subject_id, closes_at)`,
    );
    await runner.query(`
      CREATE FUNCTION gateway.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP;
      END $$`);
    for (const table of ['decisions', 'reference_history', 'break_glass_windows']) {
      await runner.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON gateway.${table}
        FOR EACH ROW EXECUTE FUNCTION gateway.refuse_change()`);
      await runner.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON gateway.${table}
        FOR EACH STATEMENT EXECUTE FUNCTION gateway.refuse_change()`);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'break_glass_windows',
      'decisions',
      'consent_replica_status',
      'consent_replica',
      'consent_replica_events',
      'reference_history',
      'access_grants',
      'relationships',
      'agreements',
      'users',
      'organisations',
    ]) {
      await runner.query(`DROP TABLE gateway.${table}`);
    }
    await runner.query(`DROP FUNCTION gateway.refuse_change()`);
  }
}
