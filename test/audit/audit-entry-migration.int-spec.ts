import { DataSource } from 'typeorm';
import { createServiceDataSource, runMigrations } from '#common';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { AuditEntryGeneratedFromBytes1764500000000 } from '../../apps/audit-service/src/migrations/1764500000000-entry-generated-from-bytes';
import { LogAppender } from '../../apps/audit-service/src/log/append/log-appender';
import { canonicalJson } from '../../apps/audit-service/src/log/domain/canonical-json';
import { chainHash, GENESIS_HASH } from '../../apps/audit-service/src/log/domain/chain';
import { appendLeaves, leafHash } from '../../apps/audit-service/src/log/domain/merkle';
import { LogVerifier } from '../../apps/audit-service/src/log/verify/log-verifier';
import { AUDIT_MIGRATIONS, decisionEntry, migratedAuditDataSource } from '../support/audit-log';
import { createTestDatabase } from '../support/test-database';

/**
 * Entries written before the hashed bytes were stored (entry_canonical NULL, `entry` an ordinary
 * column with search columns generated from it) keep verifying after the migration that makes
 * `entry` generated from the bytes, and the log grows on from them.
 */
/** The migrations before the one under test, and it with the ones that follow. */
const UNDER_TEST = AUDIT_MIGRATIONS.indexOf(AuditEntryGeneratedFromBytes1764500000000);

describe('migration: entry generated from the hashed bytes', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase('audit_migration');
    ds = await migratedAuditDataSource(db.url, AUDIT_MIGRATIONS.slice(0, UNDER_TEST));
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('fills the bytes of older entries, keeps their search columns, and the chain verifies', async () => {
    // Three entries as the appender wrote them before: jsonb only, hashed as canonical JSON.
    let prev: Buffer = GENESIS_HASH;
    const leaves: Buffer[] = [];
    for (const n of [1, 2, 3]) {
      const entry = { ...decisionEntry(n), seq: n };
      const bytes = Buffer.from(canonicalJson(entry), 'utf8');
      const hash = chainHash(prev, bytes);
      await ds.query(
        `INSERT INTO audit.entries (seq, entry, prev_hash, hash, source_event_id, at)
         VALUES ($1, $2::jsonb, $3, $4, $5, $6)`,
        [n, JSON.stringify(entry), prev, hash, entry.sourceEventId, entry.at],
      );
      leaves.push(leafHash(bytes));
      prev = hash;
    }
    const nodes = appendLeaves({ get: () => Buffer.alloc(32) }, 0, leaves);
    for (const node of nodes) {
      await ds.query(`INSERT INTO audit.merkle_nodes (level, index, hash) VALUES ($1, $2, $3)`, [
        node.level,
        node.index,
        node.hash,
      ]);
    }

    // The migration, and those after it, as `npm run migrate` would run them next.
    const after = createServiceDataSource({
      url: db.url,
      schema: AuditServiceDefinition.schema,
      migrations: AUDIT_MIGRATIONS,
      poolSize: 2,
      applicationName: 'audit-migration-test',
    });
    await after.initialize();
    try {
      const ran = await runMigrations(after, AuditServiceDefinition.schema);
      expect(ran).toEqual(
        AUDIT_MIGRATIONS.slice(UNDER_TEST).map((m) => (m as { name: string }).name),
      );
      expect(ran[0]).toBe('AuditEntryGeneratedFromBytes1764500000000');
      const rows: { seq: string; canonical: string; subject_id: string; outcome: string }[] =
        await after.query(
          `SELECT seq::text AS seq, entry_canonical AS canonical, subject_id, outcome
             FROM audit.entries ORDER BY seq`,
        );
      expect(rows.map((r) => r.canonical)).toEqual(
        [1, 2, 3].map((n) => canonicalJson({ ...decisionEntry(n), seq: n })),
      );
      expect(rows.map((r) => [r.subject_id, r.outcome])).toEqual([
        ['9434765919', 'deny'],
        ['9434765919', 'permit'],
        ['9434765919', 'deny'],
      ]);
      expect(await new LogVerifier(after).verify()).toEqual({
        ok: true,
        checked: 3,
        treeHeadsChecked: 0,
      });

      // The appender writes on from them, and the search columns it writes agree.
      await after.transaction((tx) =>
        new LogAppender().append(tx, [decisionEntry(4), decisionEntry(5)]),
      );
      expect(await new LogVerifier(after).verify()).toMatchObject({ ok: true, checked: 5 });
      const [fifth]: { actor_id: string; action: string; entry: { seq: number } }[] =
        await after.query(`SELECT actor_id, action, entry FROM audit.entries WHERE seq = 5`);
      expect(fifth).toMatchObject({ actor_id: 'sw-5', action: 'gateway.decision' });
      expect(fifth.entry.seq).toBe(5);

      // And the entry cannot be written apart from its bytes.
      await expect(
        after.query(`UPDATE audit.entries SET entry = '{}'::jsonb WHERE seq = 1`),
      ).rejects.toThrow(/can only be updated to DEFAULT/);

      // Down and up again leave a log that still verifies.
      await after.undoLastMigration();
      expect(await new LogVerifier(after).verify()).toMatchObject({ ok: true, checked: 5 });
      await after.runMigrations({ transaction: 'each' });
      expect(await new LogVerifier(after).verify()).toMatchObject({ ok: true, checked: 5 });
    } finally {
      if (after.isInitialized) await after.destroy();
    }
  });
});
