import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaWatermarks, dropKafkaWatermarks } from '#common';

/** Per-partition relay watermarks for the audit schema's Kafka consumers (how current they are). */
export class AuditKafkaWatermarks1764600000000 implements MigrationInterface {
  name = 'AuditKafkaWatermarks1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaWatermarks(runner, 'audit');
    await runner.query(`GRANT SELECT, INSERT, UPDATE ON audit.kafka_watermarks TO audit_runtime`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaWatermarks(runner, 'audit');
  }
}
