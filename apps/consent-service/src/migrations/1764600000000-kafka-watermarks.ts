import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaWatermarks, dropKafkaWatermarks } from '#common';

/** Per-partition relay watermarks for the consent schema's Kafka consumers (how current they are). */
export class ConsentKafkaWatermarks1764600000000 implements MigrationInterface {
  name = 'ConsentKafkaWatermarks1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaWatermarks(runner, 'consent');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaWatermarks(runner, 'consent');
  }
}
