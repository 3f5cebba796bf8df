import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantOutboxToReaders, revokeOutboxFromReaders } from '#common';

/** Consumers running as a restricted role (the audit service's) may read the gateway outbox. */
export class GatewayOutboxReaders1764100000000 implements MigrationInterface {
  name = 'GatewayOutboxReaders1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    await grantOutboxToReaders(runner, 'gateway');
  }

  async down(runner: QueryRunner): Promise<void> {
    await revokeOutboxFromReaders(runner, 'gateway');
  }
}
