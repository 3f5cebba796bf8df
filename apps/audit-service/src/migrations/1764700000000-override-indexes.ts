import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What makes an entry a safeguarding override (the decision that opened a window). */
const IS_OVERRIDE = `jsonb_typeof(entry->'details'->'breakGlass') = 'object'`;

/**
 * Indexes the safeguarding overrides alone, so the IG officer's list of overrides and the review
 * of one no longer read the whole log: both filtered every entry's jsonb (seconds per request at
 * a million entries, growing with the log), to find the few that opened a break-glass window.
 * Partial indexes hold only those entries; an append pays for testing one field of the entry.
 */
export class AuditOverrideIndexes1764700000000 implements MigrationInterface {
  name = 'AuditOverrideIndexes1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    // Oldest first, for the list.
    await runner.query(
      `CREATE INDEX entries_overrides ON audit.entries (seq) WHERE ${IS_OVERRIDE}`,
    );
    // By decision, for a review.
    await runner.query(
      `CREATE INDEX entries_override_decisions
         ON audit.entries ((entry->'details'->>'decisionId')) WHERE ${IS_OVERRIDE}`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX audit.entries_override_decisions`);
    await runner.query(`DROP INDEX audit.entries_overrides`);
  }
}
