import type { DataSource, EntityManager } from 'typeorm';
import { evolve, initialState, type SubjectState } from '../domain/state';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row';

const PAGE = 10_000;
const WRITE_BATCH = 2_000;

type Row = EventRow & { stream_id: string };

/**
 * Drops the projection and rebuilds it from the event log, in one transaction during which
 * appends wait (the log is locked against writes), so the result is exactly the log's fold.
 */
export async function rebuildProjection(
  dataSource: DataSource,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<{ events: number; subjects: number }> {
  return dataSource.transaction(async (tx) => {
    await tx.query(`LOCK TABLE consent.events IN SHARE MODE`);
    const [{ total }] = await tx.query(`SELECT count(*)::int AS total FROM consent.events`);
    await tx.query(`TRUNCATE consent.subject_states, consent.record_index`);
    let done = 0;
    let subjects = 0;
    let current: SubjectState | null = null;
    let pending: SubjectState[] = [];
    let after: [string, number] = ['', 0];
    onProgress(0, total);
    for (;;) {
      const rows: Row[] = await tx.query(
        `SELECT stream_id, ${EVENT_COLUMNS}
           FROM consent.events
          WHERE (stream_id, stream_position) > ($1, $2)
          ORDER BY stream_id, stream_position
          LIMIT ${PAGE}`,
        after,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        if (!current || current.subjectId !== row.stream_id) {
          if (current) pending.push(current);
          current = initialState(row.stream_id);
          subjects++;
        }
        current = evolve(current, toStoredEvent(row));
      }
      if (pending.length >= WRITE_BATCH) pending = await write(tx, pending);
      done += rows.length;
      const last = rows[rows.length - 1];
      after = [last.stream_id, last.stream_position];
      onProgress(done, total);
    }
    if (current) pending.push(current);
    await write(tx, pending);
    return { events: done, subjects };
  });
}

async function write(tx: EntityManager, states: SubjectState[]): Promise<SubjectState[]> {
  if (states.length === 0) return [];
  await tx.query(
    `INSERT INTO consent.subject_states (subject_id, stream_version, state, updated_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::jsonb[], $4::timestamptz[])`,
    [
      states.map((s) => s.subjectId),
      states.map((s) => s.streamVersion),
      states.map((s) => JSON.stringify(s)),
      states.map((s) => s.updatedAt),
    ],
  );
  const index = states.flatMap((s) => [
    ...s.consents.map((c) => [c.consentId, 'consent', s.subjectId]),
    ...s.objections.map((o) => [o.objectionId, 'objection', s.subjectId]),
    ...s.proxies.map((p) => [p.proxyId, 'proxy', s.subjectId]),
  ]);
  if (index.length > 0) {
    await tx.query(
      `INSERT INTO consent.record_index (record_id, kind, subject_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
      [index.map((i) => i[0]), index.map((i) => i[1]), index.map((i) => i[2])],
    );
  }
  return [];
}
