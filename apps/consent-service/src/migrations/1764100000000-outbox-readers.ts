import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantOutboxToReaders, revokeOutboxFromReaders } from '#common';

/** Consumers running as a restricted role (the audit service's) may read the consent outbox. */
export class ConsentOutboxReaders1764100000000 implements MigrationInterface {
  name = 'ConsentOutboxReaders1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    await grantOutboxToReaders(runner, 'consent');
  }

  async down(runner: QueryRunner): Promise<void> {
    await revokeOutboxFromReaders(runner, 'consent');
  }
}
