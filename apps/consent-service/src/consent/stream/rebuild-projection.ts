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
 * The log is read through a cursor and the next page is asked for before the current one is
 * folded, so PostgreSQL reads while Node folds; projection writes queue on the same
 * connection (the transaction's) behind the read and overlap the next fold in the same way.
 */
export async function rebuildProjection(
  dataSource: DataSource,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<{ events: number; subjects: number }> {
  return dataSource.transaction(async (tx) => {
    await tx.query(`LOCK TABLE consent.events IN SHARE MODE`);
    const [{ total }] = await tx.query(`SELECT count(*)::int AS total FROM consent.events`);
    await tx.query(`TRUNCATE consent.subject_states, consent.record_index`);
    // Times are formatted by PostgreSQL exactly as toISOString() does (UTC, milliseconds
    // truncated), which is how every reader of the log presents recorded_at.
    await tx.query(
      `DECLARE rebuild_events NO SCROLL CURSOR FOR
         SELECT stream_id, stream_position, type, data, metadata, event_id,
                to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at
           FROM consent.events
          ORDER BY stream_id, stream_position`,
    );
    const fetch = (): Promise<Row[]> => tx.query(`FETCH ${PAGE} FROM rebuild_events`);
    let done = 0;
    let subjects = 0;
    let current: SubjectState | null = null;
    let pending: SubjectState[] = [];
    const writes: Promise<void>[] = [];
    onProgress(0, total);
    let page = fetch();
    for (;;) {
      const rows = await page;
      if (rows.length === 0) break;
      page = fetch();
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
        const written = write(tx, pending);
        // Awaited below; a failure also fails the next FETCH (the transaction is aborted).
        written.catch(() => undefined);
        writes.push(written);
        pending = [];
      }
      done += rows.length;
      onProgress(done, total);
    }
    if (current !== null) pending.push(current);
    writes.push(write(tx, pending));
    await Promise.all(writes);
    await tx.query(`CLOSE rebuild_events`);
    return { events: done, subjects };
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
