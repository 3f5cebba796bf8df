import { Buffer } from 'node:buffer';
import { frontier, type NodeId } from '../domain/merkle';

/** Stored nodes to read: indexes [first, stop) of one level. */
export interface NodeRange {
  level: number;
  first: number;
  stop: number;
}

/** What was read for a range: `count` well-formed nodes, their hashes concatenated in index order. */
export interface NodeRun {
  level: number;
  first: number;
  count: number;
  hashes: Buffer;
}

/** Reads ranges of stored nodes (audit.merkle_nodes), all in one round trip. */
export type NodeRangeReader = (ranges: NodeRange[]) => Promise<NodeRun[]>;

/** Below this level the cache never holds whole levels: they are most of the tree's nodes. */
export const LOWEST_CACHED_LEVEL = 4;

const HASH_BYTES = 32;

/**
 * The upper levels of the Merkle tree in memory, so a proof reads from PostgreSQL only its few
 * low siblings. A stored node never changes (it is written once its subtree is complete, and the
 * table refuses UPDATE and DELETE), so a cached node is never stale; the cache only ever holds
 * nodes read from audit.merkle_nodes, never one computed or guessed. Each replica keeps its own:
 * replicas share nothing but the database, and every copy is a copy of the same stored rows.
 *
 * Held: for every level l ≥ L, nodes [0, ⌊size/2^l⌋) of the tree at `size`, the size of a signed
 * head (so every node of it is committed), packed as 32-byte hashes; and the right-edge nodes
 * (frontier) of that size below L, which every proof against that head reads for its root.
 * L is the lowest level ≥ LOWEST_CACHED_LEVEL whose levels together hold at most `maxNodes`
 * nodes; as the log grows L rises and the lowest level is dropped. Memory is therefore at most
 * about 36 bytes × maxNodes (the packed hashes with 1/8 room to grow) plus 63 right-edge nodes,
 * whatever the log's size (and, while a level grows, its old copy until it is collected):
 * 4.7 MB for the default 131,072 nodes, which is L = 4 (125,000 nodes, 4 MB) at 1,000,000
 * entries and L = 8 at 10,000,000.
 */
export class MerkleNodeCache {
  /** Level l ≥ L: the hashes of its nodes 0 … count - 1, packed, with room to grow after. */
  private readonly levels = new Map<number, { hashes: Buffer; count: number }>();
  private edge = new Map<string, Buffer>();
  private size = 0;
  private refreshing: Promise<void> | null = null;
  private hitCount = 0;
  private missCount = 0;

  constructor(
    private readonly read: NodeRangeReader,
    private readonly maxNodes: number,
  ) {}

  /** The tree size the cache was last brought to (0 before the first refresh). */
  get coveredSize(): number {
    return this.size;
  }

  /** Nodes held, whole levels and right edge together. */
  get nodeCount(): number {
    let whole = 0;
    for (const { count } of this.levels.values()) whole += count;
    return whole + this.edge.size;
  }

  /** Lookups answered from memory and lookups left to the database, since start. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.hitCount, misses: this.missCount };
  }

  /** A copy of the stored node's hash, or undefined when it is not held. */
  get(level: number, index: number): Buffer | undefined {
    const whole = this.levels.get(level);
    if (whole && index < whole.count) {
      const at = index * HASH_BYTES;
      return Buffer.from(whole.hashes.subarray(at, at + HASH_BYTES));
    }
    const edge = this.edge.get(`${level}:${index}`);
    return edge === undefined ? undefined : Buffer.from(edge);
  }

  /**
   * Splits the nodes a computation needs into those held (returned keyed `level:index`, the way
   * `storeOf` reads them) and those to read. The held ones are copied out now, so a refresh
   * finishing while the caller reads the rest changes nothing for it.
   */
  take(wanted: NodeId[]): { held: Map<string, Buffer>; missing: NodeId[] } {
    const held = new Map<string, Buffer>();
    const missing: NodeId[] = [];
    for (const node of wanted) {
      const hash = this.get(node.level, node.index);
      if (hash === undefined) missing.push(node);
      else held.set(`${node.level}:${node.index}`, hash);
    }
    this.hitCount += held.size;
    this.missCount += missing.length;
    return { held, missing };
  }

  /**
   * Brings the cache up to the tree at `size` (a signed head's size) with one read of the nodes
   * it does not hold yet. Sizes at or below the one held are ignored, and so is a call while a
   * refresh is under way (the next call after it catches up). Rejects if the read fails; the
   * cache is then unchanged.
   */
  refresh(size: number): Promise<void> {
    if (this.maxNodes <= 0 || size <= this.size) return Promise.resolve();
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.extendTo(size).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async extendTo(size: number): Promise<void> {
    const lowest = lowestCachedLevel(size, this.maxNodes);
    const ranges: NodeRange[] = [];
    for (let level = lowest; Math.floor(size / 2 ** level) > 0; level++) {
      const have = this.levels.get(level)?.count ?? 0;
      const stop = Math.floor(size / 2 ** level);
      if (stop > have) ranges.push({ level, first: have, stop });
    }
    const edgeNodes = frontier(size).filter((node) => node.level < lowest);
    for (const { level, index } of edgeNodes) ranges.push({ level, first: index, stop: index + 1 });
    const runs = ranges.length === 0 ? [] : await this.read(ranges);

    // Everything below happens without an await: a proof sees the cache before or after, whole.
    for (const level of this.levels.keys()) if (level < lowest) this.levels.delete(level);
    const byStart = new Map(runs.map((run) => [`${run.level}:${run.first}`, run]));
    const edge = new Map<string, Buffer>();
    for (const range of ranges) {
      const run = byStart.get(`${range.level}:${range.first}`);
      const count = range.stop - range.first;
      // A range with a node missing or malformed is left out: a proof then reads that node from
      // the database and fails as it always did, instead of the cache hiding a broken tree.
      if (!run || run.count !== count || run.hashes.length !== count * HASH_BYTES) continue;
      if (range.level < lowest) {
        edge.set(`${range.level}:${range.first}`, Buffer.from(run.hashes));
      } else {
        this.append(range.level, run.hashes, count);
      }
    }
    this.edge = edge;
    this.size = size;
  }

  private append(level: number, hashes: Buffer, count: number): void {
    const whole = this.levels.get(level) ?? { hashes: Buffer.alloc(0), count: 0 };
    const total = whole.count + count;
    if (whole.hashes.length < total * HASH_BYTES) {
      // Room for 1/8 more, so a level growing by one head's worth is not copied every time.
      const grown = Buffer.alloc((total + Math.floor(total / 8)) * HASH_BYTES);
      whole.hashes.copy(grown, 0, 0, whole.count * HASH_BYTES);
      whole.hashes = grown;
    }
    hashes.copy(whole.hashes, whole.count * HASH_BYTES);
    whole.count = total;
    this.levels.set(level, whole);
  }
}

/** Nodes on levels ≥ `level` of a tree of `size` leaves: Σ ⌊size / 2^l⌋. */
export function nodesFromLevel(size: number, level: number): number {
  let total = 0;
  for (let l = level; Math.floor(size / 2 ** l) > 0; l++) total += Math.floor(size / 2 ** l);
  return total;
}

/** The lowest level ≥ LOWEST_CACHED_LEVEL from which the whole levels fit in `maxNodes`. */
export function lowestCachedLevel(size: number, maxNodes: number): number {
  let level = LOWEST_CACHED_LEVEL;
  while (nodesFromLevel(size, level) > maxNodes) level++;
  return level;
}
