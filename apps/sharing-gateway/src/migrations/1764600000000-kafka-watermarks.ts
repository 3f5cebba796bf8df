import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaWatermarks, dropKafkaWatermarks } from '#common';

/** Per-partition relay watermarks for the gateway schema's Kafka consumers (how current they are). */
export class GatewayKafkaWatermarks1764600000000 implements MigrationInterface {
  name = 'GatewayKafkaWatermarks1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaWatermarks(runner, 'gateway');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaWatermarks(runner, 'gateway');
  }
}
