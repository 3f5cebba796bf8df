import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { chainHash, entryBytes, GENESIS_HASH } from '../domain/chain';
import { appendLeaves, frontier, leafHash, type NodeStore } from '../domain/merkle';
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
 */
@Injectable()
export class LogAppender {
  async append(tx: EntityManager, contents: EntryContent[]): Promise<LogEntry[]> {
    if (contents.length === 0) return [];
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [CHAIN_LOCK]);
    const head = await readHead(tx);
    const nodes = await loadNodes(tx, frontier(head.size));
    const entries: LogEntry[] = [];
    const hashes: Buffer[] = [];
    const prevHashes: Buffer[] = [];
    const leaves: Buffer[] = [];
    let prev: Buffer = head.hash;
    for (const [i, content] of contents.entries()) {
      const entry: LogEntry = { seq: head.size + i + 1, ...content };
      const bytes = entryBytes(entry);
      const hash = chainHash(prev, bytes);
      entries.push(entry);
      prevHashes.push(prev);
      hashes.push(hash);
      leaves.push(leafHash(bytes));
      prev = hash;
    }
    const created = appendLeaves(storeOf(nodes), head.size, leaves);
    await tx.query(
      `WITH appended AS (
         INSERT INTO audit.entries (seq, entry, prev_hash, hash, source_event_id, at)
         SELECT * FROM unnest($1::bigint[], $2::jsonb[], $3::bytea[], $4::bytea[], $5::uuid[],
                              $6::timestamptz[]))
       INSERT INTO audit.merkle_nodes (level, index, hash)
       SELECT * FROM unnest($7::smallint[], $8::bigint[], $9::bytea[])`,
      [
        entries.map((e) => e.seq),
        entries.map((e) => JSON.stringify(e)),
        prevHashes,
        hashes,
        entries.map((e) => e.sourceEventId),
        entries.map((e) => e.at),
        created.map((n) => n.level),
        created.map((n) => n.index),
        created.map((n) => n.hash),
      ],
    );
    return entries;
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
