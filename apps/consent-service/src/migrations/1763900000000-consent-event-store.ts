import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The append-only event store of people's consent streams, its projection and idempotency keys. */
export class ConsentEventStore1763900000000 implements MigrationInterface {
  name = 'ConsentEventStore1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    // (stream_id, stream_position) unique is the optimistic-concurrency guard: of two writers
    // deciding on the same version, exactly one inserts.
    await runner.query(`
      CREATE TABLE consent.events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_position integer NOT NULL CHECK (stream_position > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT events_stream_version UNIQUE (stream_id, stream_position)
      )`);
    await runner.query(
      `CREATE INDEX events_stream_time ON consent.events (stream_id, recorded_at)`,
    );
    // Past states are recoverable only if the log is never rewritten.
    await runner.query(`
      CREATE FUNCTION consent.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'consent.events is append-only (% refused)', TG_OP;
      END $$`);
    await runner.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON consent.events
      FOR EACH ROW EXECUTE FUNCTION consent.refuse_event_change()`);
    await runner.query(`
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON consent.events
      FOR EACH STATEMENT EXECUTE FUNCTION consent.refuse_event_change()`);
    await runner.query(`
      CREATE TABLE consent.subject_states (
        subject_id text PRIMARY KEY,
        stream_version integer NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE consent.record_index (
        record_id uuid PRIMARY KEY,
        kind text NOT NULL,
        subject_id text NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE consent.idempotency_keys (
        idempotency_key text PRIMARY KEY,
        subject_id text NOT NULL,
        request_hash text NOT NULL,
        status_code integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE consent.idempotency_keys`);
    await runner.query(`DROP TABLE consent.record_index`);
    await runner.query(`DROP TABLE consent.subject_states`);
    await runner.query(`DROP TABLE consent.events`);
    await runner.query(`DROP FUNCTION consent.refuse_event_change()`);
  }
}
