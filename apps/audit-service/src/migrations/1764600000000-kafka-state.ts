import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaState, dropKafkaState } from '#common';

/** What the Kafka relay and consumers of the audit schema remember: clusters and watermarks. */
export class AuditKafkaState1764600000000 implements MigrationInterface {
  name = 'AuditKafkaState1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaState(runner, 'audit');
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE ON audit.kafka_partitions, audit.kafka_relay TO audit_runtime`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaState(runner, 'audit');
  }
}
