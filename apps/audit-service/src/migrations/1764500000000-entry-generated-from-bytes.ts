import type { MigrationInterface, QueryRunner } from 'typeorm';
import { canonicalJson } from '../log/domain/canonical-json';

/** The search columns, and how each was generated from `entry` before this migration. */
const SEARCH_COLUMNS: [column: string, expression: string][] = [
  ['subject_id', `entry->>'subjectId'`],
  ['actor_id', `entry->'actor'->>'userId'`],
  ['actor_org', `entry->'actor'->>'org'`],
  ['action', `entry->>'action'`],
  ['outcome', `entry->>'outcome'`],
];
const SEARCH_INDEXES: [name: string, columns: string][] = [
  ['entries_subject', 'subject_id, seq'],
  ['entries_actor', 'actor_id, seq'],
  ['entries_action', 'action, seq'],
];
const BACKFILL_PAGE = 1_000;

/**
 * Makes the hashed bytes the only stored form of an entry: `entry` (the jsonb that the API
 * serves and reports search) becomes a column PostgreSQL generates from `entry_canonical`, so
 * no statement can make the two differ. The verifier then no longer has to parse every entry's
 * bytes to compare them with `entry` (that comparison was most of the cost of verifying), and
 * checks instead that the column is still generated from the bytes (the catalogue) and that the
 * search columns say what `entry` says.
 *
 * The search columns cannot stay generated from `entry` (PostgreSQL does not let a generated
 * column read another), so they become ordinary columns that the appender writes and the
 * verifier checks against `entry`. Their values and indexes are kept as they are.
 *
 * Entries stored before their bytes were kept (entry_canonical NULL) get them now: their RFC
 * 8785 canonical JSON is what they were hashed as (the verifier re-canonicalised them), so a
 * chain that verified before verifies after, and a tampered one stays tampered. Filling them
 * needs the append-only trigger off for this migration's own UPDATE only.
 */
export class AuditEntryGeneratedFromBytes1764500000000 implements MigrationInterface {
  name = 'AuditEntryGeneratedFromBytes1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE audit.entries DISABLE TRIGGER entries_append_only`);
    for (;;) {
      const rows: { seq: string; entry: unknown }[] = await runner.query(
        `SELECT seq::text AS seq, entry FROM audit.entries
          WHERE entry_canonical IS NULL ORDER BY seq LIMIT ${BACKFILL_PAGE}`,
      );
      if (rows.length === 0) break;
      await runner.query(
        `UPDATE audit.entries e SET entry_canonical = b.text
           FROM unnest($1::bigint[], $2::text[]) AS b(seq, text) WHERE e.seq = b.seq`,
        [rows.map((r) => r.seq), rows.map((r) => canonicalJson(r.entry))],
      );
    }
    await runner.query(`ALTER TABLE audit.entries ENABLE TRIGGER entries_append_only`);
    for (const [column] of SEARCH_COLUMNS) {
      await runner.query(`ALTER TABLE audit.entries ALTER COLUMN ${column} DROP EXPRESSION`);
    }
    // Adding a stored generated column rewrites the table (no row trigger fires).
    await runner.query(`ALTER TABLE audit.entries RENAME COLUMN entry TO entry_before`);
    await runner.query(
      `ALTER TABLE audit.entries
         ADD COLUMN entry jsonb NOT NULL GENERATED ALWAYS AS (entry_canonical::jsonb) STORED`,
    );
    await runner.query(`ALTER TABLE audit.entries DROP COLUMN entry_before`);
    await runner.query(`ALTER TABLE audit.entries ALTER COLUMN entry_canonical SET NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE audit.entries RENAME COLUMN entry TO entry_generated`);
    await runner.query(`ALTER TABLE audit.entries ADD COLUMN entry jsonb`);
    await runner.query(`ALTER TABLE audit.entries DISABLE TRIGGER entries_append_only`);
    await runner.query(`UPDATE audit.entries SET entry = entry_generated`);
    await runner.query(`ALTER TABLE audit.entries ENABLE TRIGGER entries_append_only`);
    await runner.query(`ALTER TABLE audit.entries ALTER COLUMN entry SET NOT NULL`);
    await runner.query(`ALTER TABLE audit.entries DROP COLUMN entry_generated`);
    await runner.query(`ALTER TABLE audit.entries ALTER COLUMN entry_canonical DROP NOT NULL`);
    for (const [column, expression] of SEARCH_COLUMNS) {
      await runner.query(`ALTER TABLE audit.entries DROP COLUMN ${column}`);
      await runner.query(
        `ALTER TABLE audit.entries ADD COLUMN ${column} text GENERATED ALWAYS AS (${expression}) STORED`,
      );
    }
    for (const [name, columns] of SEARCH_INDEXES) {
      await runner.query(`CREATE INDEX ${name} ON audit.entries (${columns})`);
    }
  }
}
