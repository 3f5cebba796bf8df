import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { chainHash, entryTemplate, fillTemplate, GENESIS_HASH } from '../domain/chain';
import { appendLeaves, leafHash, type NodeStore } from '../domain/merkle';
import type { EntryContent, LogEntry } from '../ingest/entry-from-event';

/** Serialises every writer of the chain, in any replica: one transaction appends at a time. */
export const CHAIN_LOCK = 'audit-chain';

/** Where the log ends: how many entries, and the last hash. */
export interface LogHead {
  size: number;
  hash: Buffer;
}

/** Reads the stored nodes a computation asks for, in one query. */
export async function loadNodes(
  db: Pick<EntityManager, 'query'>,
  wanted: { level: number; index: number }[],
): Promise<Map<string, Buffer>> {
  const nodes = new Map<string, Buffer>();
  if (wanted.length === 0) return nodes;
  const rows: { level: number; index: string; hash: Buffer }[] = await db.query(
    `SELECT n.level, n.index::text AS index, n.hash
       FROM audit.merkle_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, index)
         ON n.level = w.level AND n.index = w.index`,
    [wanted.map((w) => w.level), wanted.map((w) => w.index)],
  );
  for (const r of rows) nodes.set(`${r.level}:${r.index}`, r.hash);
  return nodes;
}

/** A NodeStore over loaded nodes; a missing node is a broken tree, never a silent zero. */
export function storeOf(nodes: Map<string, Buffer>): NodeStore {
  return {
    get(level: number, index: number): Buffer {
      const hash = nodes.get(`${level}:${index}`);
      if (!hash) throw new Error(`Merkle node (${level}, ${index}) is missing`);
      return hash;
    },
  };
}

/**
 * Appends entries to the hash chain and the Merkle tree inside the caller's transaction. The
 * transaction-scoped advisory lock makes appends strictly sequential across concurrent
 * consumers and replicas; the head is read after taking it, so no two writers extend the same
 * hash. Nothing is kept in memory between batches: any replica can take over at any moment.
 *
 * The lock is held until the caller commits, so the work under it is kept to what depends on
 * the position: entries are canonicalised before it is taken, and the batch goes to
 * PostgreSQL as three parameters (all canonical texts, all chain hashes, all new tree nodes)
 * rather than one array element per value, which PostgreSQL would have to unescape.
 */
@Injectable()
export class LogAppender {
  async append(tx: EntityManager, contents: EntryContent[]): Promise<LogEntry[]> {
    if (contents.length === 0) return [];
    const templates = contents.map(entryTemplate);
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [CHAIN_LOCK]);
    const { head, nodes } = await readHeadAndFrontier(tx);
    const texts: string[] = new Array<string>(contents.length);
    const hashes = Buffer.allocUnsafe(32 * contents.length);
    const leaves: Buffer[] = new Array<Buffer>(contents.length);
    let prev: Buffer = head.hash;
    for (let i = 0; i < contents.length; i++) {
      const text = fillTemplate(templates[i], head.size + i + 1);
      const bytes = Buffer.from(text, 'utf8');
      prev = chainHash(prev, bytes);
      prev.copy(hashes, 32 * i);
      leaves[i] = leafHash(bytes);
      texts[i] = text;
    }
    const created = appendLeaves(storeOf(nodes), head.size, leaves);
    const nodeHashes = Buffer.allocUnsafe(32 * created.length);
    created.forEach((n, i) => n.hash.copy(nodeHashes, 32 * i));
    // Canonical JSON escapes every control character, so a line feed separates entries safely.
    // prev_hash of entry i is the hash of entry i - 1: the head's for the first.
    await tx.query(
      `WITH input AS MATERIALIZED (
         SELECT t.n, t.text, t.text::jsonb AS entry
           FROM unnest(string_to_array($1::text, E'\\n')) WITH ORDINALITY AS t(text, n)
       ), appended AS (
         INSERT INTO audit.entries (seq, entry, entry_canonical, prev_hash, hash, source_event_id, at)
         SELECT $2::bigint + i.n, i.entry, i.text,
                CASE WHEN i.n = 1 THEN $3::bytea ELSE substring($4::bytea FROM (i.n::int - 2) * 32 + 1 FOR 32) END,
                substring($4::bytea FROM (i.n::int - 1) * 32 + 1 FOR 32),
                (i.entry->>'sourceEventId')::uuid, (i.entry->>'at')::timestamptz
           FROM input i
       )
       INSERT INTO audit.merkle_nodes (level, index, hash)
       SELECT w.level, w.index, substring($7::bytea FROM (w.n::int - 1) * 32 + 1 FOR 32)
         FROM unnest($5::smallint[], $6::bigint[]) WITH ORDINALITY AS w(level, index, n)`,
      [
        texts.join('\n'),
        head.size,
        head.hash,
        hashes,
        created.map((n) => n.level),
        created.map((n) => n.index),
        nodeHashes,
      ],
    );
    return contents.map((content, i) => ({ seq: head.size + i + 1, ...content }));
  }
}

/** The last entry's position and hash (the genesis hash for an empty log). */
export async function readHead(db: Pick<EntityManager, 'query'>): Promise<LogHead> {
  const rows: { seq: string; hash: Buffer }[] = await db.query(
    `SELECT e.seq::text AS seq, e.hash FROM audit.entries e ORDER BY e.seq DESC LIMIT 1`,
  );
  return rows.length === 0
    ? { size: 0, hash: GENESIS_HASH }
    : { size: Number(rows[0].seq), hash: rows[0].hash };
}

/**
 * The head and the stored nodes of its frontier (see `frontier`), in one round trip: under the
 * chain lock every round trip is time no other writer can append.
 */
async function readHeadAndFrontier(
  db: Pick<EntityManager, 'query'>,
): Promise<{ head: LogHead; nodes: Map<string, Buffer> }> {
  const rows: {
    seq: string;
    hash: Buffer;
    level: number | null;
    index: string | null;
    node: Buffer | null;
  }[] = await db.query(
    `SELECT h.seq::text AS seq, h.hash, f.level, f.index::text AS index, n.hash AS node
         FROM (SELECT e.seq, e.hash FROM audit.entries e ORDER BY e.seq DESC LIMIT 1) h
         LEFT JOIN LATERAL (
           SELECT l::smallint AS level, (h.seq >> l) - 1 AS index
             FROM generate_series(0, 62) AS l WHERE ((h.seq >> l) & 1) = 1
         ) f ON true
         LEFT JOIN audit.merkle_nodes n ON n.level = f.level AND n.index = f.index`,
  );
  if (rows.length === 0) return { head: { size: 0, hash: GENESIS_HASH }, nodes: new Map() };
  const size = Number(rows[0].seq);
  const nodes = new Map<string, Buffer>();
  for (const r of rows) {
    // A frontier node that is not stored stays absent: storeOf names it when it is read.
    if (r.node !== null) nodes.set(`${r.level}:${r.index}`, r.node);
  }
  return { head: { size, hash: rows[0].hash }, nodes };
}
