import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createTransportTables, dropTransportTables } from '#common';

/** The outbox, inbox and consumer checkpoints of the gateway schema. */
export class GatewayTransportTables1763800000000 implements MigrationInterface {
  name = 'GatewayTransportTables1763800000000';

  async up(runner: QueryRunner): Promise<void> {
    await createTransportTables(runner, 'gateway');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropTransportTables(runner, 'gateway');
  }
}
