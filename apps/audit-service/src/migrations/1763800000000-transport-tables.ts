import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createTransportTables, dropTransportTables } from '#common';

/** The outbox, inbox and consumer checkpoints of the audit schema. */
export class AuditTransportTables1763800000000 implements MigrationInterface {
  name = 'AuditTransportTables1763800000000';

  async up(runner: QueryRunner): Promise<void> {
    await createTransportTables(runner, 'audit');
  }

  async down(runner: QueryRunner): Promise<void> {
    await dropTransportTables(runner, 'audit');
  }
}
