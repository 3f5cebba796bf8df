import type { QueryRunner } from 'typeorm';

/**
 * Creates a service's outbox, inbox and consumer checkpoints in its own schema.
 * Called from each service's first migration, so every service carries the same transport.
 */
export async function createTransportTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  // transaction_id lets a reader by position stop below the oldest transaction still running
  // (pg_snapshot_xmin), so a row committed late with a lower position is never skipped.
  await runner.query(`
    CREATE TABLE "${schema}".outbox (
      global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      event_id uuid NOT NULL UNIQUE,
      topic text NOT NULL,
      type text NOT NULL,
      stream_id text NOT NULL,
      stream_version integer NOT NULL,
      partition_key text NOT NULL,
      envelope jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`);
  await runner.query(
    `CREATE INDEX outbox_read_order ON "${schema}".outbox (topic, transaction_id, global_position)`,
  );
  await runner.query(
    `CREATE INDEX outbox_unpublished ON "${schema}".outbox (transaction_id, global_position) WHERE published_at IS NULL`,
  );
  await runner.query(`
    CREATE TABLE "${schema}".inbox (
      consumer_group text NOT NULL,
      event_id uuid NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, event_id)
    )`);
  await runner.query(`
    CREATE TABLE "${schema}".consumer_checkpoints (
      consumer_group text NOT NULL,
      topic text NOT NULL,
      last_transaction_id xid8 NOT NULL DEFAULT '0',
      last_position bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, topic)
    )`);
}

/** Reverses createTransportTables. */
export async function dropTransportTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".consumer_checkpoints`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".inbox`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".outbox`);
}

/**
 * Where a service's Kafka consumer groups keep, per partition, the newest relay watermark they
 * have applied everything before: the only way a Kafka consumer can tell how current it is,
 * since an empty fetch says nothing about what the producer has not published yet.
 */
export async function createKafkaWatermarks(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    CREATE TABLE "${schema}".kafka_watermarks (
      consumer_group text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL CHECK (partition >= 0),
      partitions integer NOT NULL CHECK (partitions > partition),
      as_of timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, topic, partition)
    )`);
}

/** Reverses createKafkaWatermarks. */
export async function dropKafkaWatermarks(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".kafka_watermarks`);
}
