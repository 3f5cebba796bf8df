import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stores a decision's body (~4.4 kB of jsonb: request, facts, answer) as it is, in the row.
 * Past 2 kB PostgreSQL compresses a row's large values on insert (pglz), which cost more of
 * the database's CPU per decision than writing it; a row that fits a page is now kept whole.
 * Rows already stored are unchanged (compressed values stay readable as they are).
 */
export class GatewayDecisionsStoredUncompressed1764500000000 implements MigrationInterface {
  name = 'GatewayDecisionsStoredUncompressed1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE gateway.decisions SET (toast_tuple_target = 8160)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE gateway.decisions RESET (toast_tuple_target)`);
  }
}
