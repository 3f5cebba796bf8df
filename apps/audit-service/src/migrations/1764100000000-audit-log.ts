import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tamper-evident log: entries chained by hash, the Merkle tree's complete subtrees, signed
 * tree heads and the keys that signed them. All four refuse UPDATE, DELETE and TRUNCATE, even
 * from the table owner (triggers), and the runtime role may only INSERT and SELECT them.
 */
export class AuditLog1764100000000 implements MigrationInterface {
  name = 'AuditLog1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    // `entry` is exactly what was hashed (canonicalised per RFC 8785 when hashing); the
    // columns used for searching are generated from it, so they cannot disagree with it.
    await runner.query(`
      CREATE TABLE audit.entries (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        entry jsonb NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        source_event_id uuid NOT NULL UNIQUE,
        at timestamptz NOT NULL,
        subject_id text GENERATED ALWAYS AS (entry->>'subjectId') STORED,
        actor_id text GENERATED ALWAYS AS (entry->'actor'->>'userId') STORED,
        actor_org text GENERATED ALWAYS AS (entry->'actor'->>'org') STORED,
        action text GENERATED ALWAYS AS (entry->>'action') STORED,
        outcome text GENERATED ALWAYS AS (entry->>'outcome') STORED
      )`);
    await runner.query(`CREATE INDEX entries_subject ON audit.entries (subject_id, seq)`);
    await runner.query(`CREATE INDEX entries_actor ON audit.entries (actor_id, seq)`);
    await runner.query(`CREATE INDEX entries_at ON audit.entries (at)`);
    await runner.query(`CREATE INDEX entries_action ON audit.entries (action, seq)`);
    await runner.query(`
      CREATE TABLE audit.merkle_nodes (
        level smallint NOT NULL,
        index bigint NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (level, index)
      )`);
    await runner.query(`
      CREATE TABLE audit.signing_keys (
        key_id text PRIMARY KEY,
        algorithm text NOT NULL,
        public_key_pem text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE audit.tree_heads (
        tree_size bigint PRIMARY KEY,
        root_hash bytea NOT NULL,
        issued_at timestamptz NOT NULL,
        signature bytea NOT NULL,
        key_id text NOT NULL REFERENCES audit.signing_keys (key_id)
      )`);
    await runner.query(`
      CREATE TABLE audit.break_glass_reviews (
        decision_id uuid PRIMARY KEY,
        outcome text NOT NULL,
        notes text NOT NULL,
        reviewed_by text NOT NULL,
        reviewed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP;
      END $$`);
    for (const table of [
      'entries',
      'merkle_nodes',
      'tree_heads',
      'signing_keys',
      'break_glass_reviews',
    ]) {
      await runner.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON audit.${table}
        FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`);
      await runner.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON audit.${table}
        FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`);
    }
    // The runtime role: roles are cluster-wide, so it may exist from another database.
    await runner.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_runtime') THEN
          CREATE ROLE audit_runtime NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_event_reader') THEN
          CREATE ROLE ledger_event_reader NOLOGIN;
        END IF;
      END $$`);
    await runner.query(`GRANT ledger_event_reader TO audit_runtime`);
    await runner.query(`GRANT USAGE ON SCHEMA audit TO audit_runtime`);
    await runner.query(
      `GRANT SELECT, INSERT ON audit.entries, audit.merkle_nodes, audit.tree_heads, audit.signing_keys,
                               audit.break_glass_reviews TO audit_runtime`,
    );
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE ON audit.outbox, audit.inbox, audit.consumer_checkpoints TO audit_runtime`,
    );
    await runner.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA audit TO audit_runtime`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'break_glass_reviews',
      'tree_heads',
      'signing_keys',
      'merkle_nodes',
      'entries',
    ]) {
      await runner.query(`DROP TABLE audit.${table}`);
    }
    await runner.query(`DROP FUNCTION audit.refuse_change()`);
  }
}
