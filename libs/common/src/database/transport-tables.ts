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
 * What a service's Kafka relay and consumers must remember across restarts, since offsets and
 * emptiness alone mislead:
 * - `kafka_partitions`, per consumer group and partition: the cluster its position was taken in
 *   (offsets mean nothing in another cluster), and the newest relay watermark before which
 *   everything on it has been applied (an empty fetch says nothing of what the producer has not
 *   published yet);
 * - `kafka_relay`: the cluster the outbox was last published to, so a relay started after the
 *   cluster was replaced still publishes the retained outbox again.
 */
export async function createKafkaState(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    CREATE TABLE "${schema}".kafka_partitions (
      consumer_group text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL CHECK (partition >= 0),
      cluster_id text,
      partitions integer CHECK (partitions > partition),
      watermark_as_of timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, topic, partition),
      CHECK ((partitions IS NULL) = (watermark_as_of IS NULL))
    )`);
  await runner.query(`
    CREATE TABLE "${schema}".kafka_relay (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      cluster_id text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
}

/** Reverses createKafkaState. */
export async function dropKafkaState(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".kafka_relay`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".kafka_partitions`);
}
