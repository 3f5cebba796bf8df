import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { chainHash, entryBytes, GENESIS_HASH } from '../domain/chain';
import { appendLeaves, leafHash, rootHash, type NodeStore } from '../domain/merkle';
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

/**
 * Recomputes the chain and the Merkle tree from the stored entries alone and compares them with
 * the stored hashes, the stored tree nodes and every signed tree head. It names the first entry
 * that does not fit: a changed, missing, reordered or forged entry.
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
    // The recomputed tree: every complete node, in memory only as far as the frontier needs.
    const nodes = new Map<string, Buffer>();
    const store: NodeStore = {
      get: (level, index) => {
        const hash = nodes.get(`${level}:${index}`);
        if (!hash) throw new Error(`node (${level}, ${index}) not recomputed`);
        return hash;
      },
    };
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
        if (rootHash(store, head.treeSize).toString('hex') !== head.rootHash) {
          return fail(Math.max(1, head.treeSize), `tree head ${head.treeSize} does not match`);
        }
        headIndex += 1;
      }
      return null;
    };
    const early = checkHeadsUpTo(0);
    if (early) return early;
    for (let from = 0; from < size; from += PAGE) {
      const rows: {
        seq: string;
        entry: Record<string, unknown>;
        prev_hash: Buffer;
        hash: Buffer;
      }[] = await this.dataSource.query(
        `SELECT e.seq::text AS seq, e.entry, e.prev_hash, e.hash FROM audit.entries e
            WHERE e.seq > $1 AND e.seq <= $2 ORDER BY e.seq`,
        [from, from + PAGE],
      );
      const stored = await this.storedLeaves(from, from + rows.length);
      for (const row of rows) {
        const expectedSeq = checked + 1;
        const seq = Number(row.seq);
        if (seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing`);
        if (Number(row.entry.seq) !== seq) return fail(seq, 'the entry names another position');
        if (!row.prev_hash.equals(prev))
          return fail(seq, 'prevHash does not match the entry before');
        const bytes = entryBytes(row.entry);
        if (!chainHash(prev, bytes).equals(row.hash))
          return fail(seq, 'hash does not match the entry');
        const leaf = leafHash(bytes);
        const storedLeaf = stored.get(seq - 1);
        if (!storedLeaf || !storedLeaf.equals(leaf))
          return fail(seq, 'the Merkle tree holds a different leaf');
        for (const node of appendLeaves(store, checked, [leaf])) {
          nodes.set(`${node.level}:${node.index}`, node.hash);
        }
        prev = row.hash;
        checked += 1;
        const headProblem = checkHeadsUpTo(checked);
        if (headProblem) return headProblem;
        // Only the right frontier is needed to go on: forget the rest as we pass it.
        if (checked % 4096 === 0) prune(nodes, checked);
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

  private async storedLeaves(from: number, to: number): Promise<Map<number, Buffer>> {
    const rows: { index: string; hash: Buffer }[] = await this.dataSource.query(
      `SELECT index::text AS index, hash FROM audit.merkle_nodes
        WHERE level = 0 AND index >= $1 AND index < $2`,
      [from, to],
    );
    return new Map(rows.map((r) => [Number(r.index), r.hash]));
  }
}

/** Keeps only nodes a later root or append can still need (those on the right frontier). */
function prune(nodes: Map<string, Buffer>, size: number): void {
  const keep = new Set<string>();
  for (let level = 0; 2 ** level <= size; level++) {
    const complete = Math.floor(size / 2 ** level);
    if (complete > 0) keep.add(`${level}:${complete - 1}`);
  }
  for (const key of nodes.keys()) if (!keep.has(key)) nodes.delete(key);
}
