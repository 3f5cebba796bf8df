import { DataSource } from 'typeorm';
import { LogAppender } from '../../apps/audit-service/src/log/append/log-appender';
import { LogVerifier } from '../../apps/audit-service/src/log/verify/log-verifier';
import { decisionEntry, migratedAuditDataSource } from '../support/audit-log';
import { createTestDatabase } from '../support/test-database';

/** The ingest keeps no inbox: an event delivered again must still be logged once. */
describe('LogAppender.appendNew', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('audit_append');
    ds = await migratedAuditDataSource(db.url);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('appends only the events not logged yet, in order, and the chain stays whole', async () => {
    const appender = new LogAppender();
    const first = await ds.transaction((tx) =>
      appender.appendNew(tx, [decisionEntry(1), decisionEntry(2)]),
    );
    expect(first.map((e) => [e.seq, e.sourceEventId])).toEqual([
      [1, decisionEntry(1).sourceEventId],
      [2, decisionEntry(2).sourceEventId],
    ]);
    // 2 again (upper case, as another producer might write it), 3 new, 1 again, 4 new.
    const again = {
      ...decisionEntry(2),
      sourceEventId: decisionEntry(2).sourceEventId.toUpperCase(),
    };
    const second = await ds.transaction((tx) =>
      appender.appendNew(tx, [again, decisionEntry(3), decisionEntry(1), decisionEntry(4)]),
    );
    expect(second.map((e) => [e.seq, e.correlationId])).toEqual([
      [3, 'corr-3'],
      [4, 'corr-4'],
    ]);
    // Nothing new at all: nothing appended, no error.
    expect(await ds.transaction((tx) => appender.appendNew(tx, [decisionEntry(4)]))).toEqual([]);
    const rows: { seq: string; correlation: string }[] = await ds.query(
      `SELECT seq::text AS seq, entry->>'correlationId' AS correlation FROM audit.entries ORDER BY seq`,
    );
    expect(rows.map((r) => r.correlation)).toEqual(['corr-1', 'corr-2', 'corr-3', 'corr-4']);
    expect(await new LogVerifier(ds).verify()).toMatchObject({ ok: true, checked: 4 });
  });
});
