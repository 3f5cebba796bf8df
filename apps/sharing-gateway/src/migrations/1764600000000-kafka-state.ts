import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaState, dropKafkaState } from '#common';

/** What the Kafka relay and consumers of the gateway schema remember: clusters and watermarks. */
export class GatewayKafkaState1764600000000 implements MigrationInterface {
  name = 'GatewayKafkaState1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaState(runner, 'gateway');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaState(runner, 'gateway');
  }
}
