import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createKafkaState, dropKafkaState } from '#common';

/** What the Kafka relay and consumers of the consent schema remember: clusters and watermarks. */
export class ConsentKafkaState1764600000000 implements MigrationInterface {
  name = 'ConsentKafkaState1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await createKafkaState(runner, 'consent');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropKafkaState(runner, 'consent');
  }
}
