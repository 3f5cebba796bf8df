import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  appendLeaves,
  inclusionProof,
  planNodes,
  rootHash,
  type NodeStore,
} from '../domain/merkle';
import {
  LOWEST_CACHED_LEVEL,
  lowestCachedLevel,
  MerkleNodeCache,
  nodesFromLevel,
  type NodeRange,
  type NodeRun,
} from './merkle-node-cache';

/** A stored tree of `size` leaves, as audit.merkle_nodes holds it. */
function storedTree(size: number): Map<string, Buffer> {
  const nodes = new Map<string, Buffer>();
  const store: NodeStore = { get: (l, i) => nodes.get(`${l}:${i}`) as Buffer };
  const leaves = Array.from({ length: size }, (_, i) =>
    createHash('sha256').update(`entry ${i}`).digest(),
  );
  for (const n of appendLeaves(store, 0, leaves)) nodes.set(`${n.level}:${n.index}`, n.hash);
  return nodes;
}

/** A reader over a stored tree that records every read, as readNodeRanges answers. */
function readerOf(nodes: Map<string, Buffer>) {
  const reads: NodeRange[][] = [];
  const read = async (ranges: NodeRange[]): Promise<NodeRun[]> => {
    reads.push(ranges);
    return ranges.flatMap(({ level, first, stop }) => {
      const hashes: Buffer[] = [];
      for (let i = first; i < stop; i++) {
        const hash = nodes.get(`${level}:${i}`);
        if (hash) hashes.push(hash);
      }
      return hashes.length === 0
        ? []
        : [{ level, first, count: hashes.length, hashes: Buffer.concat(hashes) }];
    });
  };
  return { read, reads };
}

const proofWork = (seq: number, size: number) => (store: NodeStore) => ({
  path: inclusionProof(store, seq - 1, size),
  root: rootHash(store, size),
});

describe('MerkleNodeCache', () => {
  const SIZE = 1000;
  const tree = storedTree(SIZE);
  const storeOfTree: NodeStore = { get: (l, i) => tree.get(`${l}:${i}`) as Buffer };

  it('leaves a proof against the cached size only its siblings below the cached levels to read', async () => {
    const cache = new MerkleNodeCache(readerOf(tree).read, 10_000);
    await cache.refresh(SIZE);
    for (const seq of [1, 2, 17, 500, 511, 512, 977, 999, 1000]) {
      const work = proofWork(seq, SIZE);
      const { held, missing } = cache.take(planNodes(work));
      expect(missing.every((n) => n.level < LOWEST_CACHED_LEVEL)).toBe(true);
      expect(missing.length).toBeLessThanOrEqual(LOWEST_CACHED_LEVEL);
      for (const n of missing)
        held.set(`${n.level}:${n.index}`, tree.get(`${n.level}:${n.index}`)!);
      const fromCache = work({ get: (l, i) => held.get(`${l}:${i}`)! });
      expect(fromCache).toEqual(work(storeOfTree));
    }
  });

  it('holds every node of the levels it caches and the right edge below them, nothing else', async () => {
    const cache = new MerkleNodeCache(readerOf(tree).read, 10_000);
    await cache.refresh(SIZE);
    expect(cache.get(LOWEST_CACHED_LEVEL, 0)).toEqual(tree.get(`${LOWEST_CACHED_LEVEL}:0`));
    expect(cache.get(9, 0)).toEqual(tree.get('9:0'));
    expect(cache.get(LOWEST_CACHED_LEVEL, 61)).toEqual(tree.get(`${LOWEST_CACHED_LEVEL}:61`));
    expect(cache.get(LOWEST_CACHED_LEVEL, 62)).toBeUndefined(); // not complete at 1000
    // 1000 = 0b1111101000: its right edge below level 4 is the node (3, 124).
    expect(cache.get(3, 124)).toEqual(tree.get('3:124'));
    expect(cache.get(3, 123)).toBeUndefined();
    expect(cache.get(0, 0)).toBeUndefined();
    expect(cache.nodeCount).toBe(nodesFromLevel(SIZE, LOWEST_CACHED_LEVEL) + 1);
  });

  it('answers copies: a caller writing into a hash changes nothing held', async () => {
    const cache = new MerkleNodeCache(readerOf(tree).read, 10_000);
    await cache.refresh(SIZE);
    cache.get(5, 3)!.fill(0);
    cache
      .take([{ level: 3, index: 124 }])
      .held.get('3:124')!
      .fill(0);
    expect(cache.get(5, 3)).toEqual(tree.get('5:3'));
    expect(cache.get(3, 124)).toEqual(tree.get('3:124'));
  });

  it('reads only the nodes completed since the last refresh as the log grows', async () => {
    const big = storedTree(2048);
    const { read, reads } = readerOf(big);
    const cache = new MerkleNodeCache(read, 10_000);
    await cache.refresh(1000);
    await cache.refresh(1000);
    await cache.refresh(999);
    expect(reads).toHaveLength(1);
    await cache.refresh(1040);
    expect(reads).toHaveLength(2);
    // ⌊1000 / 2^l⌋ nodes were held on each level l ≥ 4; ⌊1040 / 2^l⌋ are complete now.
    expect(reads[1].filter((r) => r.level >= LOWEST_CACHED_LEVEL)).toEqual([
      { level: 4, first: 62, stop: 65 },
      { level: 5, first: 31, stop: 32 },
      { level: 6, first: 15, stop: 16 },
      { level: 7, first: 7, stop: 8 },
      { level: 8, first: 3, stop: 4 },
      { level: 9, first: 1, stop: 2 },
      { level: 10, first: 0, stop: 1 },
    ]);
    expect(cache.coveredSize).toBe(1040);
    for (let i = 0; i < 65; i++) expect(cache.get(4, i)).toEqual(big.get(`4:${i}`));
  });

  it('stays within its bound: the lowest cached level rises with the log and is dropped', async () => {
    const big = storedTree(4096);
    const cache = new MerkleNodeCache(readerOf(big).read, 300);
    await cache.refresh(2048); // levels ≥ 4 hold 255 nodes
    expect(cache.get(4, 0)).toBeDefined();
    await cache.refresh(4096); // levels ≥ 4 would hold 511: from level 5 on, 255
    expect(cache.get(4, 0)).toBeUndefined();
    expect(cache.get(5, 127)).toEqual(big.get('5:127'));
    expect(cache.nodeCount).toBeLessThanOrEqual(300);
  });

  it('reads one refresh at a time, however many proofs ask for it', async () => {
    const { read, reads } = readerOf(tree);
    const cache = new MerkleNodeCache(read, 10_000);
    await Promise.all([cache.refresh(SIZE), cache.refresh(SIZE), cache.refresh(SIZE)]);
    expect(reads).toHaveLength(1);
  });

  it('holds nothing from a failed read, and the next refresh reads again', async () => {
    let fail = true;
    const { read, reads } = readerOf(tree);
    const cache = new MerkleNodeCache(async (ranges) => {
      if (fail) throw new Error('connection lost');
      return read(ranges);
    }, 10_000);
    await expect(cache.refresh(SIZE)).rejects.toThrow('connection lost');
    expect(cache.nodeCount).toBe(0);
    expect(cache.coveredSize).toBe(0);
    fail = false;
    await cache.refresh(SIZE);
    expect(reads).toHaveLength(1);
    expect(cache.get(9, 0)).toEqual(tree.get('9:0'));
  });

  it('does not hold a level with a node missing or malformed: proofs read it and fail as before', async () => {
    const broken = new Map(tree);
    broken.delete('6:3');
    broken.set('7:2', Buffer.alloc(31));
    const cache = new MerkleNodeCache(readerOf(broken).read, 10_000);
    await cache.refresh(SIZE);
    expect(cache.get(6, 0)).toBeUndefined();
    expect(cache.get(7, 0)).toBeUndefined();
    expect(cache.get(8, 0)).toEqual(tree.get('8:0'));
    const { missing } = cache.take([
      { level: 6, index: 3 },
      { level: 8, index: 1 },
    ]);
    expect(missing).toEqual([{ level: 6, index: 3 }]);
  });

  it('counts lookups answered from memory and left to the database', async () => {
    const cache = new MerkleNodeCache(readerOf(tree).read, 10_000);
    await cache.refresh(SIZE);
    cache.take([
      { level: 9, index: 0 },
      { level: 0, index: 5 },
    ]);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('holds and reads nothing when sized 0', async () => {
    const { read, reads } = readerOf(tree);
    const cache = new MerkleNodeCache(read, 0);
    await cache.refresh(SIZE);
    expect(reads).toHaveLength(0);
    expect(cache.take(planNodes(proofWork(7, SIZE))).held.size).toBe(0);
  });

  it('holds only the right edge of a log too small for a whole cached level', async () => {
    const small = storedTree(13);
    const cache = new MerkleNodeCache(readerOf(small).read, 10_000);
    await cache.refresh(13); // 0b1101: (3, 0), (2, 2), (0, 12)
    expect(cache.nodeCount).toBe(3);
    expect(cache.get(0, 12)).toEqual(small.get('0:12'));
    expect(cache.get(0, 1)).toBeUndefined();
  });
});

describe('lowestCachedLevel', () => {
  it.each([
    [0, 131_072, LOWEST_CACHED_LEVEL],
    [1_000_000, 131_072, 4],
    [2_000_000, 131_072, 5],
    [10_000_000, 131_072, 8],
    [1_000_000, 1_000, 11],
  ])('a log of %i entries with room for %i nodes caches from level %i', (size, max, level) => {
    expect(lowestCachedLevel(size, max)).toBe(level);
    expect(nodesFromLevel(size, level)).toBeLessThanOrEqual(max);
  });

  it('counts the nodes of the levels from one up', () => {
    expect(nodesFromLevel(1_000_000, 4)).toBe(124_993);
    expect(nodesFromLevel(16, 4)).toBe(1);
    expect(nodesFromLevel(15, 4)).toBe(0);
  });
});
