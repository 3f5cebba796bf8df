import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../domain/canonical-json';
import { GENESIS_HASH } from '../domain/chain';
import { MerkleFrontier } from '../domain/merkle';
import { readTreeHeads } from '../tree-heads/tree-head.service';
import { verifyTreeHead } from '../tree-heads/tree-head';

export interface VerifyResult {
  ok: boolean;
  /** Entries checked (up to the first bad one). */
  checked: number;
  firstBadSeq?: number;
  problem?: string;
  treeHeadsChecked: number;
}

const PAGE = 10_000;
/** Pages being read while one is hashed. */
const READ_AHEAD = 2;
const LEAF_PREFIX = Buffer.from([0x00]);

interface PageRow {
  seq: string;
  /** The bytes the entry was hashed as; null for entries stored before they were kept. */
  canonical: string | null;
  /** Only for those older entries: re-canonicalised, as they were when appended. */
  entry: Record<string, unknown> | null;
  prev_hash: Buffer;
  hash: Buffer;
  leaf: Buffer | null;
  /** The stored columns say what the hashed bytes say (see the query). */
  columns_agree: boolean;
}

/**
 * Recomputes the chain and the Merkle tree from the stored entries alone and compares them with
 * the stored hashes, the stored leaves and every signed tree head. It names the first entry
 * that does not fit: a changed, missing, reordered or forged entry.
 *
 * It hashes the stored canonical bytes rather than re-canonicalising every jsonb value, but
 * the bytes alone would prove nothing about what people read and search: `entry` (served by
 * the API, and the source of the generated search columns, which PostgreSQL recomputes on
 * every write and no statement can set) and the `seq`, `source_event_id` and `at` columns.
 * PostgreSQL checks those against the bytes while it reads the page (`columns_agree`), in its
 * own process, so the check overlaps the hashing here. jsonb equality is value equality, so a
 * change that jsonb cannot represent (key order, whitespace, 1.0 for 1) is no change to it.
 */
@Injectable()
export class LogVerifier {
  constructor(private readonly dataSource: DataSource) {}

  async verify(onProgress?: (done: number, total: number) => void): Promise<VerifyResult> {
    const [{ total }]: { total: string }[] = await this.dataSource.query(
      `SELECT coalesce(max(seq), 0)::text AS total FROM audit.entries`,
    );
    const size = Number(total);
    const heads = await readTreeHeads(this.dataSource);
    const keys = new Map<string, string>(
      (
        (await this.dataSource.query(`SELECT key_id, public_key_pem FROM audit.signing_keys`)) as {
          key_id: string;
          public_key_pem: string;
        }[]
      ).map((k) => [k.key_id, k.public_key_pem]),
    );
    const tree = new MerkleFrontier();
    let prev: Buffer = GENESIS_HASH;
    let checked = 0;
    let headIndex = 0;
    const fail = (seq: number, problem: string): VerifyResult => ({
      ok: false,
      checked,
      firstBadSeq: seq,
      problem,
      treeHeadsChecked: headIndex,
    });
    // A head can only be checked once the recomputed tree reaches its size.
    const checkHeadsUpTo = (n: number): VerifyResult | null => {
      while (headIndex < heads.length && heads[headIndex].treeSize <= n) {
        const head = heads[headIndex];
        const pem = keys.get(head.keyId);
        if (!pem || !verifyTreeHead(head, pem)) {
          return fail(Math.max(1, head.treeSize), `tree head ${head.treeSize} has a bad signature`);
        }
        if (tree.root().toString('hex') !== head.rootHash) {
          return fail(Math.max(1, head.treeSize), `tree head ${head.treeSize} does not match`);
        }
        headIndex += 1;
      }
      return null;
    };
    const early = checkHeadsUpTo(0);
    if (early) return early;
    const prefetch = (from: number): Promise<PageRow[]> | null => {
      if (from >= size) return null;
      const page = this.page(from);
      // Handled where it is awaited; one left behind by an early return must not go unhandled.
      page.catch(() => undefined);
      return page;
    };
    // PostgreSQL's check of a page costs more than hashing it here, so two pages are read at
    // once on two connections (two backends, so two cores) while this one is hashed.
    const ahead = Array.from({ length: READ_AHEAD }, (_, i) => prefetch(i * PAGE));
    for (let from = 0; from < size; from += PAGE) {
      const rows = await (ahead.shift() as Promise<PageRow[]>);
      ahead.push(prefetch(from + PAGE * READ_AHEAD));
      // The size of the next head to check: heads are few, so this test is per entry.
      let nextHead = headIndex < heads.length ? heads[headIndex].treeSize : Infinity;
      for (const row of rows) {
        const expectedSeq = checked + 1;
        const seq = Number(row.seq);
        if (seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing`);
        let bytes: Buffer;
        if (row.canonical !== null) {
          if (!row.columns_agree) return fail(seq, 'the stored columns differ from the entry');
          bytes = Buffer.from(row.canonical, 'utf8');
        } else {
          const entry = row.entry as Record<string, unknown>;
          if (Number(entry.seq) !== seq) return fail(seq, 'the entry names another position');
          if (!row.columns_agree) return fail(seq, 'the stored columns differ from the entry');
          bytes = Buffer.from(canonicalJson(entry), 'utf8');
        }
        if (!row.prev_hash.equals(prev))
          return fail(seq, 'prevHash does not match the entry before');
        const hash = createHash('sha256').update(prev).update(bytes).digest();
        if (!hash.equals(row.hash)) return fail(seq, 'hash does not match the entry');
        const leaf = createHash('sha256').update(LEAF_PREFIX).update(bytes).digest();
        if (row.leaf === null || !row.leaf.equals(leaf))
          return fail(seq, 'the Merkle tree holds a different leaf');
        tree.push(leaf);
        prev = hash;
        checked += 1;
        if (checked >= nextHead) {
          const headProblem = checkHeadsUpTo(checked);
          if (headProblem) return headProblem;
          nextHead = headIndex < heads.length ? heads[headIndex].treeSize : Infinity;
        }
      }
      if (rows.length === 0) return fail(checked + 1, `entry ${checked + 1} is missing`);
      onProgress?.(checked, size);
    }
    if (headIndex < heads.length) {
      const head = heads[headIndex];
      return fail(size + 1, `tree head ${head.treeSize} covers entries that are not in the log`);
    }
    onProgress?.(checked, size);
    return { ok: true, checked, treeHeadsChecked: headIndex };
  }

  /**
   * Entries (from, from + PAGE] with their stored leaves. columns_agree: `entry` is the jsonb
   * value of the hashed bytes (older entries: `entry` is what is re-hashed, so it only needs
   * the position), `seq` is the one the entry names, and `source_event_id` and `at` are the
   * entry's; written to give false, never an error, for any value a tamperer could store.
   */
  private async page(from: number): Promise<PageRow[]> {
    try {
      return await this.readPage(from, false);
    } catch (error) {
      // Stored bytes that are not JSON at all (22P02) fail the fast cast: read the page again
      // with each value tested first, which costs a second parse, so the bad entry is named.
      if ((error as { driverError?: { code?: string } }).driverError?.code !== '22P02') throw error;
      return this.readPage(from, true);
    }
  }

  private readPage(from: number, testEachValue: boolean): Promise<PageRow[]> {
    const canonicalAgrees = testEachValue
      ? `CASE WHEN pg_input_is_valid(e.entry_canonical, 'jsonb')
              THEN e.entry = e.entry_canonical::jsonb END`
      : `e.entry = e.entry_canonical::jsonb`;
    return this.dataSource.query(
      `SELECT e.seq::text AS seq, e.entry_canonical AS canonical,
              CASE WHEN e.entry_canonical IS NULL THEN e.entry END AS entry,
              e.prev_hash, e.hash, n.hash AS leaf,
              coalesce(
                (e.entry_canonical IS NULL OR ${canonicalAgrees})
                AND e.entry->>'seq' = e.seq::text
                AND CASE WHEN pg_input_is_valid(e.entry->>'sourceEventId', 'uuid')
                         THEN (e.entry->>'sourceEventId')::uuid = e.source_event_id END
                AND CASE WHEN pg_input_is_valid(e.entry->>'at', 'timestamptz')
                         THEN (e.entry->>'at')::timestamptz = e.at END,
                false) AS columns_agree
         FROM audit.entries e
         LEFT JOIN audit.merkle_nodes n ON n.level = 0 AND n.index = e.seq - 1
        WHERE e.seq > $1 AND e.seq <= $2
        ORDER BY e.seq`,
      [from, from + PAGE],
    );
  }
}
