import type { DataSource, EntityManager } from 'typeorm';
import type { EventMetadata, StoredEvent } from '../domain/events';
import { evolve, initialState, type SubjectState } from '../domain/state';

/** Rows per FETCH: large, so the per-round-trip cost is spread over many events. */
const PAGE = 20_000;
/** People per projection write. */
const WRITE_BATCH = 5_000;

interface Row {
  stream_id: string;
  stream_position: number;
  type: StoredEvent['type'];
  data: StoredEvent['data'];
  metadata: EventMetadata;
  event_id: string;
  /** Already in `Date.prototype.toISOString()` form, so no Date is made per event. */
  recorded_at: string;
}

/**
 * Drops the projection and rebuilds it from the event log, in one transaction during which
 * appends wait (the log is locked against writes), so the result is exactly the log's fold.
 *
 * Reading and writing run on two connections (the data source needs two free): a second
 * transaction reads the log through a cursor on the writer's exported snapshot, so it sees
 * exactly the locked log, while the writer's transaction drops and refills the projection.
 * The next page is asked for before the current one is folded, so both PostgreSQL sessions
 * and Node work at once.
 */
export async function rebuildProjection(
  dataSource: DataSource,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<{ events: number; subjects: number }> {
  return dataSource.transaction(async (tx) => {
    await tx.query(`LOCK TABLE consent.events IN SHARE MODE`);
    // Taken after the lock, so every append that committed before it is in the snapshot.
    const [{ snapshot }]: { snapshot: string }[] = await tx.query(
      `SELECT pg_export_snapshot() AS snapshot`,
    );
    const reader = dataSource.createQueryRunner();
    await reader.connect();
    try {
      await reader.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`);
      await reader.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
      const counted: Promise<{ total: number }[]> = reader.query(
        `SELECT count(*)::int AS total FROM consent.events`,
      );
      const truncated = tx.query(`TRUNCATE consent.subject_states, consent.record_index`);
      const [[{ total }]] = await Promise.all([counted, truncated]);
      // Times are formatted by PostgreSQL exactly as toISOString() does (UTC, milliseconds
      // truncated), which is how every reader of the log presents recorded_at.
      await reader.query(
        `DECLARE rebuild_events NO SCROLL CURSOR FOR
           SELECT stream_id, stream_position, type, data, metadata, event_id,
                  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at
             FROM consent.events
            ORDER BY stream_id, stream_position`,
      );
      const fetch = (): Promise<Row[]> => reader.query(`FETCH ${PAGE} FROM rebuild_events`);
      let done = 0;
      let subjects = 0;
      let current: SubjectState | null = null;
      let pending: SubjectState[] = [];
      // One write at a time on the writer's connection; the fold goes on meanwhile.
      let written: Promise<void> = Promise.resolve();
      onProgress(0, total);
      let page = fetch();
      for (;;) {
        const rows = await page;
        if (rows.length === 0) break;
        page = fetch();
        // Awaited at the next turn; this only keeps a failure while a write fails handled.
        page.catch(() => undefined);
        for (const row of rows) {
          if (current === null || current.subjectId !== row.stream_id) {
            if (current !== null) pending.push(current);
            current = initialState(row.stream_id);
            subjects++;
          }
          current = evolve(current, {
            type: row.type,
            data: row.data,
            eventId: row.event_id,
            streamVersion: row.stream_position,
            recordedAt: row.recorded_at,
            metadata: row.metadata,
          } as StoredEvent);
        }
        if (pending.length >= WRITE_BATCH) {
          await written;
          written = write(tx, pending);
          // Awaited at the next batch or the end; this only keeps an early failure handled.
          written.catch(() => undefined);
          pending = [];
        }
        done += rows.length;
        onProgress(done, total);
      }
      if (current !== null) pending.push(current);
      await written;
      await write(tx, pending);
      await reader.query(`COMMIT`);
      return { events: done, subjects };
    } catch (error) {
      await reader.query(`ROLLBACK`).catch(() => undefined);
      throw error;
    } finally {
      await reader.release();
    }
  });
}

/**
 * Writes people's states and their record index in one statement. The states go as one JSON
 * array parameter, so PostgreSQL derives the index rows itself (no per-state array escaping in
 * Node, no second round trip). It is typed json, not jsonb: PostgreSQL then only splits the
 * array and parses each state once into jsonb, instead of building the whole array as jsonb.
 */
async function write(tx: EntityManager, states: SubjectState[]): Promise<void> {
  if (states.length === 0) return;
  await tx.query(
    `WITH s AS (SELECT value::jsonb AS state FROM json_array_elements($1::json)),
     projected AS (
       INSERT INTO consent.subject_states (subject_id, stream_version, state, updated_at)
       SELECT state->>'subjectId', (state->>'streamVersion')::int, state,
              (state->>'updatedAt')::timestamptz
         FROM s
     )
     INSERT INTO consent.record_index (record_id, kind, subject_id)
     SELECT (r->>'consentId')::uuid, 'consent', state->>'subjectId'
       FROM s, jsonb_array_elements(state->'consents') r
     UNION ALL
     SELECT (r->>'objectionId')::uuid, 'objection', state->>'subjectId'
       FROM s, jsonb_array_elements(state->'objections') r
     UNION ALL
     SELECT (r->>'proxyId')::uuid, 'proxy', state->>'subjectId'
       FROM s, jsonb_array_elements(state->'proxies') r`,
    [JSON.stringify(states)],
  );
}
