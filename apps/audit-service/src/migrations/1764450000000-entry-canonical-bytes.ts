import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keeps the exact bytes each entry was hashed as (its RFC 8785 canonical JSON), so verifying
 * the log hashes what was stored instead of re-canonicalising every jsonb value; `entry` is
 * still written (parsed from these bytes by PostgreSQL) and the verifier checks the two agree.
 * Entries from before this migration have NULL here and are verified from `entry`, as before.
 *
 * With both forms a typical row passes 2 kB, where PostgreSQL would try to compress every
 * row on insert; a row that fits a page is stored as it is instead.
 */
export class AuditEntryCanonicalBytes1764450000000 implements MigrationInterface {
  name = 'AuditEntryCanonicalBytes1764450000000';

  async up(runner: QueryRunner): Promise<void> {
    // Nullable and without a default: only the catalogue changes, no row is rewritten.
    await runner.query(`ALTER TABLE audit.entries ADD COLUMN entry_canonical text`);
    await runner.query(`ALTER TABLE audit.entries SET (toast_tuple_target = 8160)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE audit.entries RESET (toast_tuple_target)`);
    await runner.query(`ALTER TABLE audit.entries DROP COLUMN entry_canonical`);
  }
}
