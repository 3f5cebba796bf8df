import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createTransportTables, dropTransportTables } from '#common';

/** The outbox, inbox and consumer checkpoints of the consent schema. */
export class ConsentTransportTables1763800000000 implements MigrationInterface {
  name = 'ConsentTransportTables1763800000000';

  async up(runner: QueryRunner): Promise<void> {
    await createTransportTables(runner, 'consent');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropTransportTables(runner, 'consent');
  }
}
