import { createHash } from 'node:crypto';
import {
  appendLeaves,
  consistencyProof,
  EMPTY_ROOT,
  frontier,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  planNodes,
  rangeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type NodeStore,
} from './merkle';

// ---------------------------------------------------------------------------------------------
// An independent reference, written from RFC 9162 §2.1's definitions over the leaf inputs
// themselves (nothing from ./merkle is used in it), so the stored-node implementation is
// checked against the standard rather than against itself.
// ---------------------------------------------------------------------------------------------

const sha256 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const HASH_LEAF = (d: Buffer): Buffer => sha256(Buffer.of(0x00), d);
const HASH_NODE = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.of(0x01), left, right);
/** k: the largest power of two smaller than n (n ≥ 2; the test's trees stay below 2^31). */
const splitOf = (n: number): number => 1 << (31 - Math.clz32(n - 1));

/** MTH, PATH and PROOF over D; D[start:end] is written as (start, end). */
class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();

  constructor(private readonly D: readonly Buffer[]) {}

  /** MTH(D[start:end]), memoised because every prefix of the log shares its subtrees. */
  mth(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 0) return sha256();
    if (n === 1) return HASH_LEAF(this.D[start]);
    const key = `${start},${end}`;
    let hash = this.memo.get(key);
    if (!hash) {
      const k = splitOf(n);
      hash = HASH_NODE(this.mth(start, start + k), this.mth(start + k, end));
      this.memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[n]) (RFC 9162 §2.1.3.1). */
  path(m: number, n: number): Buffer[] {
    return this.subpath(m, 0, n);
  }

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1). */
  proof(m: number, n: number): Buffer[] {
    return this.subproof(m, 0, n, true);
  }

  private subpath(m: number, start: number, end: number): Buffer[] {
    const n = end - start;
    if (n === 1) return [];
    const k = splitOf(n);
    return m < k
      ? [...this.subpath(m, start, start + k), this.mth(start + k, end)]
      : [...this.subpath(m - k, start + k, end), this.mth(start, start + k)];
  }

  private subproof(m: number, start: number, end: number, b: boolean): Buffer[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.mth(start, end)];
    const k = splitOf(n);
    return m <= k
      ? [...this.subproof(m, start, start + k, b), this.mth(start + k, end)]
      : [...this.subproof(m - k, start + k, end, false), this.mth(start, start + k)];
  }
}

// The verifiers of RFC 9162 §2.1.3.2 and §2.1.4.2, step by step, in bigint so that the RFC's
// shifts and LSB tests are taken literally.
const LSB = (x: bigint): boolean => (x & 1n) === 1n;

function refVerifyInclusion(
  leafIndex: number,
  treeSize: number,
  hash: Buffer,
  inclusionPath: Buffer[],
  rootHashValue: Buffer,
): boolean {
  if (leafIndex >= treeSize) return false; // 1
  let fn = BigInt(leafIndex); // 2
  let sn = BigInt(treeSize - 1);
  let r = hash; // 3
  for (const p of inclusionPath) {
    // 4
    if (sn === 0n) return false; // 4a
    if (LSB(fn) || fn === sn) {
      r = HASH_NODE(p, r); // 4b.1
      if (!LSB(fn)) {
        while (!(LSB(fn) || fn === 0n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = HASH_NODE(r, p);
    }
    fn >>= 1n; // 4c
    sn >>= 1n;
  }
  return sn === 0n && r.equals(rootHashValue); // 5
}

function refVerifyConsistency(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  consistencyPath: Buffer[],
): boolean {
  // Nothing to prove: the same tree, or the empty tree (the RFC's algorithm assumes 0 < m < n).
  if (first === second) return consistencyPath.length === 0 && firstHash.equals(secondHash);
  if (first === 0) return consistencyPath.length === 0 && firstHash.equals(sha256());
  if (consistencyPath.length === 0) return false; // 1
  const path = (first & (first - 1)) === 0 ? [firstHash, ...consistencyPath] : consistencyPath; // 2
  let fn = BigInt(first - 1); // 3
  let sn = BigInt(second - 1);
  while (LSB(fn)) {
    // 4
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]; // 5
  let sr = path[0];
  for (const c of path.slice(1)) {
    // 6
    if (sn === 0n) return false; // 6a
    if (LSB(fn) || fn === sn) {
      fr = HASH_NODE(c, fr); // 6b.1
      sr = HASH_NODE(c, sr); // 6b.2
      if (!LSB(fn)) {
        while (!(LSB(fn) || fn === 0n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = HASH_NODE(sr, c);
    }
    fn >>= 1n; // 6c
    sn >>= 1n;
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0n; // 7
}

// ---------------------------------------------------------------------------------------------
// Fixtures: a reproducible log of 100,000 entries and stores built from it.
// ---------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so every run checks the same sizes and samples. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(0x9162);
const int = (below: number): number => Math.floor(rand() * below);

const MAX_SIZE = 100_000;
const D = Array.from({ length: MAX_SIZE }, (_, i) =>
  Buffer.from(JSON.stringify({ seq: i + 1, nonce: int(1e9) }), 'utf8'),
);
const LEAVES = D.map(HASH_LEAF);
const ref = new ReferenceTree(D);

const key = (level: number, index: number): string => `${level}:${index}`;

/** A Map-backed store that refuses to invent a node it does not hold. */
function storeOver(nodes: Map<string, Buffer>): NodeStore {
  return {
    get(level, index) {
      const hash = nodes.get(key(level, index));
      if (!hash) throw new Error(`node (${level}, ${index}) is not stored`);
      return hash;
    },
  };
}

/** A store that counts the reads made of it. */
function counting(store: NodeStore): { store: NodeStore; reads: () => number } {
  let reads = 0;
  return {
    store: {
      get(level, index) {
        reads++;
        return store.get(level, index);
      },
    },
    reads: () => reads,
  };
}

/** Complete nodes in a tree of n leaves: ⌊n / 2^l⌋ at each level l. */
function completeNodeCount(n: number): number {
  let count = 0;
  for (let width = 1; width <= n; width *= 2) count += Math.floor(n / width);
  return count;
}

/**
 * Builds the tree of `size` leaves with appendLeaves in random batches, checking on the way
 * that each batch reads only the frontier and never re-creates a stored node.
 */
function build(size: number): { nodes: Map<string, Buffer>; problems: string[] } {
  const nodes = new Map<string, Buffer>();
  const problems: string[] = [];
  let built = 0;
  while (built < size) {
    const batch = Math.min(size - built, 1 + (rand() < 0.7 ? int(16) : int(4096)));
    const allowed = new Set(frontier(built).map((n) => key(n.level, n.index)));
    const store = storeOver(nodes);
    const created = appendLeaves(
      {
        get(level, index) {
          if (!allowed.has(key(level, index))) {
            problems.push(`size ${built}: read (${level}, ${index}) outside the frontier`);
          }
          return store.get(level, index);
        },
      },
      built,
      LEAVES.slice(built, built + batch),
    );
    for (const { level, index, hash } of created) {
      if (nodes.has(key(level, index))) problems.push(`(${level}, ${index}) created twice`);
      nodes.set(key(level, index), hash);
    }
    built += batch;
  }
  return { nodes, problems };
}

/** `count` distinct random integers in [0, below), plus the given ones that are in range. */
function sample(below: number, count: number, always: number[] = []): number[] {
  const picked = new Set(always.filter((x) => x >= 0 && x < below));
  if (below <= count) return Array.from({ length: below }, (_, i) => i);
  while (picked.size < count + always.length && picked.size < below) picked.add(int(below));
  return [...picked].sort((a, b) => a - b);
}

const flipByte = (buffer: Buffer, at: number): Buffer => {
  const copy = Buffer.from(buffer);
  copy[at % copy.length] ^= 0x01;
  return copy;
};

const hex = (buffers: Buffer[]): string[] => buffers.map((b) => b.toString('hex'));

const SIZES = [
  1,
  2,
  3,
  7,
  8,
  9,
  1023,
  1024,
  1025,
  65537,
  100_000,
  10 + int(200),
  200 + int(4000),
  4000 + int(60_000),
  60_000 + int(40_000),
];

// ---------------------------------------------------------------------------------------------

describe('Merkle tree (RFC 9162 §2.1)', () => {
  describe('hashes and known answers', () => {
    // RFC 6962 test vectors as published with Certificate Transparency's reference code.
    const CT_INPUTS = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((h) => Buffer.from(h, 'hex'));
    const CT_ROOTS = [
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const ctStore = (): NodeStore => {
      const nodes = new Map<string, Buffer>();
      for (const n of appendLeaves(storeOver(nodes), 0, CT_INPUTS.map(leafHash))) {
        nodes.set(key(n.level, n.index), n.hash);
      }
      return storeOver(nodes);
    };

    it('EMPTY_ROOT is SHA-256 of the empty string', () => {
      expect(EMPTY_ROOT.toString('hex')).toBe(CT_ROOTS[0]);
      expect(rootHash(storeOver(new Map()), 0).equals(EMPTY_ROOT)).toBe(true);
    });

    it('prefixes leaves with 0x00 and nodes with 0x01', () => {
      expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(CT_ROOTS[1]);
      expect(leafHash('audit \u20ac')).toEqual(HASH_LEAF(Buffer.from('audit \u20ac', 'utf8')));
      const [a, b] = CT_INPUTS.slice(0, 2).map(leafHash);
      expect(nodeHash(a, b).toString('hex')).toBe(CT_ROOTS[2]);
    });

    it('gives the published root for every size 0..8', () => {
      const store = ctStore();
      for (let n = 0; n <= 8; n++) expect(rootHash(store, n).toString('hex')).toBe(CT_ROOTS[n]);
    });

    it('gives the published inclusion proofs', () => {
      const store = ctStore();
      expect(hex(inclusionProof(store, 0, 8))).toEqual([
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ]);
      expect(hex(inclusionProof(store, 5, 8))).toEqual([
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ]);
    });

    it('gives the published consistency proofs', () => {
      const store = ctStore();
      expect(hex(consistencyProof(store, 2, 8))).toEqual([
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ]);
      expect(hex(consistencyProof(store, 6, 8))).toEqual([
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ]);
      expect(hex(consistencyProof(store, 2, 5))).toEqual([
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ]);
    });
  });

  describe('frontier', () => {
    it('lists one complete subtree per set bit of the size', () => {
      expect(frontier(0)).toEqual([]);
      expect(frontier(1)).toEqual([{ level: 0, index: 0 }]);
      expect(frontier(6)).toEqual([
        { level: 1, index: 2 },
        { level: 2, index: 0 },
      ]);
      expect(frontier(8)).toEqual([{ level: 3, index: 0 }]);
      expect(frontier(2 ** 40 + 3)).toEqual([
        { level: 0, index: 2 ** 40 + 2 },
        { level: 1, index: 2 ** 39 },
        { level: 40, index: 0 },
      ]);
    });

    it('is exactly what a root reads', () => {
      for (const n of [1, 5, 6, 7, 1000, 65537, 99_999]) {
        const sort = (ids: { level: number; index: number }[]) =>
          ids.map((id) => key(id.level, id.index)).sort();
        expect(sort(planNodes((store) => rootHash(store, n)))).toEqual(sort(frontier(n)));
      }
    });
  });

  describe('arguments', () => {
    const store = storeOver(new Map());

    it('refuses impossible sizes and indexes with a RangeError', () => {
      expect(() => inclusionProof(store, 3, 3)).toThrow(RangeError);
      expect(() => inclusionProof(store, 0, 0)).toThrow(RangeError);
      expect(() => inclusionProof(store, -1, 3)).toThrow(RangeError);
      expect(() => inclusionProof(store, 0.5, 3)).toThrow(RangeError);
      expect(() => consistencyProof(store, 4, 3)).toThrow(RangeError);
      expect(() => consistencyProof(store, -1, 3)).toThrow(RangeError);
      expect(() => rootHash(store, -1)).toThrow(RangeError);
      expect(() => rootHash(store, 2 ** 53)).toThrow(RangeError);
      expect(() => rangeHash(store, 2, 2)).toThrow(RangeError);
      expect(() => frontier(-2)).toThrow(RangeError);
      expect(() => appendLeaves(store, -1, [])).toThrow(RangeError);
    });

    it('refuses a leaf that is not a 32-byte hash', () => {
      expect(() => appendLeaves(store, 0, [Buffer.from('raw entry')])).toThrow(TypeError);
    });

    it('has nothing to prove from the empty tree or to the same size', () => {
      expect(consistencyProof(store, 0, 5)).toEqual([]);
      expect(consistencyProof(store, 0, 0)).toEqual([]);
    });

    it('verifiers reject malformed claims instead of throwing', () => {
      const leaf = LEAVES[0];
      expect(verifyInclusion(leaf, 1, 1, [], leaf)).toBe(false);
      expect(verifyInclusion(leaf, -1, 1, [], leaf)).toBe(false);
      expect(verifyInclusion(leaf, 0, 1.5, [], leaf)).toBe(false);
      expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
      expect(verifyConsistency(3, 2, [leaf], leaf, leaf)).toBe(false);
      expect(verifyConsistency(-1, 2, [], leaf, leaf)).toBe(false);
    });

    it('treats equal sizes and the empty tree as the RFC-adjacent special cases', () => {
      const [a, b] = LEAVES;
      expect(verifyConsistency(5, 5, [], a, a)).toBe(true);
      expect(verifyConsistency(5, 5, [], a, b)).toBe(false);
      expect(verifyConsistency(5, 5, [a], a, a)).toBe(false);
      expect(verifyConsistency(0, 5, [], EMPTY_ROOT, b)).toBe(true);
      expect(verifyConsistency(0, 5, [], a, b)).toBe(false);
      expect(verifyConsistency(0, 5, [a], EMPTY_ROOT, b)).toBe(false);
      expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
      expect(verifyConsistency(3, 5, [], a, b)).toBe(false);
    });
  });

  describe.each(SIZES)('a tree of %i leaves built by appendLeaves', (size) => {
    let nodes: Map<string, Buffer>;
    let store: NodeStore;
    const small = size <= 1025;

    beforeAll(() => {
      const built = build(size);
      expect(built.problems.slice(0, 5)).toEqual([]);
      nodes = built.nodes;
      store = storeOver(nodes);
    });

    it('holds every complete subtree and nothing else, each equal to the reference MTH', () => {
      expect(nodes.size).toBe(completeNodeCount(size));
      const mismatched: string[] = [];
      const entries = [...nodes.entries()];
      const checked = small ? entries : sample(entries.length, 3000).map((i) => entries[i]);
      for (const [id, hash] of checked) {
        const [level, index] = id.split(':').map(Number);
        const width = 2 ** level;
        if (!hash.equals(ref.mth(index * width, (index + 1) * width))) mismatched.push(id);
      }
      expect(mismatched).toEqual([]);
    });

    it('gives the reference root for every prefix size sampled', () => {
      const sizes = small
        ? Array.from({ length: size + 1 }, (_, i) => i)
        : sample(size + 1, 300, [0, 1, size - 1, size, 1024, 1025, 65536, 65537]);
      const wrong = sizes.filter((m) => !rootHash(store, m).equals(ref.mth(0, m)));
      expect(wrong).toEqual([]);
    });

    it('reads O(log n) nodes for a root or any range the recursion produces', () => {
      const bound = 2 * Math.log2(size) + 2;
      const root = counting(store);
      rootHash(root.store, size);
      expect(root.reads()).toBeLessThanOrEqual(bound);
      // Random descents of MTH(D[0:size]): every range on the way, left subtrees and right edges.
      const tooMany: string[] = [];
      for (let walk = 0; walk < 20; walk++) {
        for (let [start, end] = [0, size]; end - start > 1;) {
          const range = counting(store);
          if (!rangeHash(range.store, start, end).equals(ref.mth(start, end))) {
            tooMany.push(`[${start}, ${end}) wrong`);
          }
          if (range.reads() > bound) tooMany.push(`[${start}, ${end}): ${range.reads()} reads`);
          const split = start + splitOf(end - start);
          [start, end] = rand() < 0.5 ? [start, split] : [split, end];
        }
      }
      expect(tooMany).toEqual([]);
    });

    it('still gives MTH(D[start:end]) for an arbitrary range', () => {
      for (let i = 0; i < (small ? 50 : 10); i++) {
        const end = 1 + int(Math.min(size, 5000));
        const start = int(end);
        expect(rangeHash(store, start, end).equals(ref.mth(start, end))).toBe(true);
      }
    });

    it('gives the reference inclusion proof, which verifies, for every leaf sampled', () => {
      const root = ref.mth(0, size);
      const leaves = small ? sample(size, size) : sample(size, 200, [0, size - 1]);
      const failures: string[] = [];
      for (const i of leaves) {
        const path = inclusionProof(store, i, size);
        if (hex(path).join() !== hex(ref.path(i, size)).join()) failures.push(`${i} ≠`);
        if (!refVerifyInclusion(i, size, LEAVES[i], path, root)) failures.push(`${i} ref`);
        if (!verifyInclusion(LEAVES[i], i, size, path, root)) failures.push(`${i} own`);
      }
      expect(failures).toEqual([]);
    });

    it('proves inclusion in older tree sizes from the same stored nodes', () => {
      const failures: string[] = [];
      for (const n of sample(size, 20).map((m) => m + 1)) {
        const i = int(n);
        const path = inclusionProof(store, i, n);
        if (hex(path).join() !== hex(ref.path(i, n)).join()) failures.push(`${i}/${n}`);
        if (!verifyInclusion(LEAVES[i], i, n, path, ref.mth(0, n))) failures.push(`${i}/${n} v`);
      }
      expect(failures).toEqual([]);
    });

    it('rejects a changed entry, a wrong index and a truncated or extended path', () => {
      const root = ref.mth(0, size);
      const accepted: string[] = [];
      const check = (what: string, ok: boolean, own: boolean) => {
        if (ok || own) accepted.push(what);
      };
      for (const i of sample(size, small ? 40 : 30, [0, size - 1])) {
        const path = inclusionProof(store, i, size);
        const changed = HASH_LEAF(flipByte(D[i], int(D[i].length)));
        check(
          `${i} changed entry`,
          refVerifyInclusion(i, size, changed, path, root),
          verifyInclusion(changed, i, size, path, root),
        );
        for (const j of [i - 1, i + 1, i ^ 1, size]) {
          if (j === i || j < 0) continue;
          check(
            `${i} as ${j}`,
            refVerifyInclusion(j, size, LEAVES[i], path, root),
            verifyInclusion(LEAVES[i], j, size, path, root),
          );
        }
        if (path.length > 0) {
          const short = path.slice(0, -1);
          check(
            `${i} truncated`,
            refVerifyInclusion(i, size, LEAVES[i], short, root),
            verifyInclusion(LEAVES[i], i, size, short, root),
          );
          const tampered = path.map((p, j) => (j === path.length - 1 ? flipByte(p, 0) : p));
          check(
            `${i} tampered`,
            refVerifyInclusion(i, size, LEAVES[i], tampered, root),
            verifyInclusion(LEAVES[i], i, size, tampered, root),
          );
        }
        for (const extra of [root, LEAVES[0], Buffer.alloc(32)]) {
          const long = [...path, extra];
          check(
            `${i} extended`,
            refVerifyInclusion(i, size, LEAVES[i], long, root),
            verifyInclusion(LEAVES[i], i, size, long, root),
          );
        }
      }
      expect(accepted).toEqual([]);
    });

    it('gives the reference consistency proof, which verifies, for every pair sampled', () => {
      const pairs: [number, number][] = [];
      if (size <= 9) {
        for (let n = 0; n <= size; n++) for (let m = 0; m <= n; m++) pairs.push([m, n]);
      } else {
        for (let i = 0; i < 200; i++) {
          const n = 1 + int(size);
          pairs.push([int(n + 1), n]);
        }
        for (const m of [0, 1, 2, size >> 1, 1024, size - 1, size]) {
          if (m <= size) pairs.push([m, size]);
        }
      }
      const failures: string[] = [];
      for (const [m, n] of pairs) {
        const proof = consistencyProof(store, m, n);
        const expected = m === 0 || m === n ? [] : ref.proof(m, n);
        if (hex(proof).join() !== hex(expected).join()) failures.push(`${m}→${n} ≠`);
        const [r1, r2] = [ref.mth(0, m), ref.mth(0, n)];
        if (!refVerifyConsistency(m, n, r1, r2, proof)) failures.push(`${m}→${n} ref`);
        if (!verifyConsistency(m, n, proof, r1, r2)) failures.push(`${m}→${n} own`);
      }
      expect(failures).toEqual([]);
    });

    it('rejects a consistency proof that was tampered with, cut, padded or misapplied', () => {
      if (size < 2) return;
      const accepted: string[] = [];
      const check = (what: string, m: number, n: number, p: Buffer[], r1: Buffer, r2: Buffer) => {
        if (refVerifyConsistency(m, n, r1, r2, p) || verifyConsistency(m, n, p, r1, r2)) {
          accepted.push(what);
        }
      };
      for (let i = 0; i < 30; i++) {
        const n = 2 + int(size - 1);
        const m = 1 + int(n - 1);
        const proof = consistencyProof(store, m, n);
        const [r1, r2] = [ref.mth(0, m), ref.mth(0, n)];
        const other = ref.mth(0, m - 1 || 2);
        check(`${m}→${n} other old root`, m, n, proof, other, r2);
        check(`${m}→${n} other new root`, m, n, proof, r1, flipByte(r2, i));
        check(`${m}→${n} truncated`, m, n, proof.slice(0, -1), r1, r2);
        check(`${m}→${n} extended`, m, n, [...proof, r2], r1, r2);
        const at = int(proof.length);
        const tampered = proof.map((p, j) => (j === at ? flipByte(p, i) : p));
        check(`${m}→${n} tampered at ${at}`, m, n, tampered, r1, r2);
      }
      expect(accepted).toEqual([]);
    });
  });

  describe('planNodes at n = 100,000', () => {
    const n = MAX_SIZE;
    const bound = 2 * Math.log2(n) + 2;
    let full: NodeStore;

    beforeAll(() => {
      full = storeOver(build(n).nodes);
    });

    /** A store holding only the planned nodes, copied from the full tree. */
    function plannedStore(planned: { level: number; index: number }[]): NodeStore {
      return storeOver(
        new Map(planned.map(({ level, index }) => [key(level, index), full.get(level, index)])),
      );
    }

    it('plans O(log n) distinct nodes for an inclusion proof, and they suffice', () => {
      for (const i of sample(n, 50, [0, n - 1, 65535, 65536])) {
        const planned = planNodes((s) => inclusionProof(s, i, n));
        expect(planned.length).toBeLessThanOrEqual(bound);
        expect(new Set(planned.map((p) => key(p.level, p.index))).size).toBe(planned.length);
        expect(hex(inclusionProof(plannedStore(planned), i, n))).toEqual(
          hex(inclusionProof(full, i, n)),
        );
      }
    });

    it('plans O(log n) distinct nodes for a consistency proof, and they suffice', () => {
      for (const m of sample(n, 50, [1, 2, 65536, 65537, n - 1])) {
        const planned = planNodes((s) => consistencyProof(s, m, n));
        expect(planned.length).toBeLessThanOrEqual(bound);
        expect(hex(consistencyProof(plannedStore(planned), m, n))).toEqual(
          hex(consistencyProof(full, m, n)),
        );
      }
    });

    it('plans a proof and its root together, for one database round trip', () => {
      const [i, m] = [int(n), int(n)];
      const work = (s: NodeStore) => ({
        root: rootHash(s, n),
        inclusion: inclusionProof(s, i, n),
        consistency: consistencyProof(s, m, n),
      });
      const planned = planNodes(work);
      expect(planned.length).toBeLessThanOrEqual(3 * bound);
      const answer = work(plannedStore(planned));
      expect(answer.root.equals(ref.mth(0, n))).toBe(true);
      expect(hex(answer.inclusion)).toEqual(hex(ref.path(i, n)));
      expect(hex(answer.consistency)).toEqual(hex(m === 0 ? [] : ref.proof(m, n)));
    });

    it('plans only frontier nodes for an append', () => {
      const size = 1 + int(n - 100);
      const planned = planNodes((s) => appendLeaves(s, size, LEAVES.slice(size, size + 50)));
      const allowed = new Set(frontier(size).map((p) => key(p.level, p.index)));
      expect(planned.every((p) => allowed.has(key(p.level, p.index)))).toBe(true);
    });
  });
});

describe('MerkleFrontier', () => {
  it('has the root of every prefix of a 300-leaf log, as RFC 9162 defines it', () => {
    const D = Array.from({ length: 300 }, (_, i) => Buffer.from(`entry ${i}`));
    const reference = new ReferenceTree(D);
    const tree = new MerkleFrontier();
    expect(tree.root()).toEqual(EMPTY_ROOT);
    for (const [i, d] of D.entries()) {
      tree.push(leafHash(d));
      expect(tree.size).toBe(i + 1);
      expect(tree.root().toString('hex')).toBe(reference.mth(0, i + 1).toString('hex'));
    }
  });

  it('gives a different root when one leaf differs', () => {
    const a = new MerkleFrontier();
    const b = new MerkleFrontier();
    for (let i = 0; i < 37; i++) {
      a.push(leafHash(`entry ${i}`));
      b.push(leafHash(i === 20 ? 'entry 20!' : `entry ${i}`));
    }
    expect(a.root().equals(b.root())).toBe(false);
  });
});
