import { Buffer } from 'node:buffer';
import { createHash, hash } from 'node:crypto';

// RFC 9162 §2.1 Merkle tree. The tree is kept as stored subtree hashes (node (level, index)
// is MTH of leaves [index·2^level, (index+1)·2^level)), written once when the subtree becomes
// complete and never changed: appending only adds nodes, so any older tree size is still
// answered by the same rows, and a root or proof reads O(log n) of them instead of the log.
//
// Sizes and indexes are JS numbers. Bitwise operators would truncate them to 32 bits, so
// halving and parity are done arithmetically; every value stays a safe integer.

const LEAF_PREFIX = Buffer.from([0x00]);

/** MTH({}) = SHA-256 of the empty string: the root of the empty log. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** A leaf's hash, SHA-256(0x00 ‖ entry); a string entry is hashed as its UTF-8 bytes. */
export function leafHash(entry: Buffer | string): Buffer {
  const bytes = typeof entry === 'string' ? Buffer.from(entry, 'utf8') : entry;
  return createHash('sha256').update(LEAF_PREFIX).update(bytes).digest();
}

/** An interior node's hash, SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  // One-shot over one reused buffer: a hash object, or a fresh input, per node was most of the
  // cost of recomputing a tree. (Synchronous, so no other call can use the buffer meanwhile.)
  const length = 1 + left.length + right.length;
  const input = length <= NODE_INPUT.length ? NODE_INPUT : Buffer.allocUnsafe(length);
  input[0] = 0x01;
  left.copy(input, 1);
  right.copy(input, 1 + left.length);
  return hash('sha256', input.subarray(0, length), 'buffer') as Buffer;
}

const NODE_INPUT = Buffer.allocUnsafe(65);

/**
 * Stored hashes of complete subtrees: get(level, index) is MTH of leaves
 * [index·2^level, (index+1)·2^level); level 0 holds the leaf hashes.
 */
export interface NodeStore {
  get(level: number, index: number): Buffer;
}

/** A stored node's coordinates. */
export interface NodeId {
  level: number;
  index: number;
}

/**
 * MTH(D[start:end]), reading a stored node for every complete aligned power-of-two range. For
 * the ranges RFC 9162's recursion produces (start aligned to a power of two ≥ end - start)
 * that is O(log n) reads; any other range is still answered, from smaller nodes.
 */
export function rangeHash(store: NodeStore, start: number, end: number): Buffer {
  requireCount('start', start);
  requireCount('end', end);
  if (start >= end) throw new RangeError(`rangeHash: empty range [${start}, ${end})`);
  return subtreeHash(store, start, end);
}

/** MTH of the first `size` leaves (EMPTY_ROOT for 0). */
export function rootHash(store: NodeStore, size: number): Buffer {
  requireCount('size', size);
  // A copy: a caller writing into the returned buffer must not change the constant.
  return size === 0 ? Buffer.from(EMPTY_ROOT) : subtreeHash(store, 0, size);
}

/** PATH(leafIndex, D[treeSize]) of RFC 9162 §2.1.3.1, sibling nearest the leaf first. */
export function inclusionProof(store: NodeStore, leafIndex: number, treeSize: number): Buffer[] {
  requireCount('leafIndex', leafIndex);
  requireCount('treeSize', treeSize);
  if (leafIndex >= treeSize) {
    throw new RangeError(`inclusionProof: leaf ${leafIndex} is not in a tree of ${treeSize}`);
  }
  // The recursion walked top-down; each level's sibling is appended after the deeper path.
  const topDown: Buffer[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const split = start + largestPowerOfTwoBelow(end - start);
    if (leafIndex < split) {
      topDown.push(subtreeHash(store, split, end));
      end = split;
    } else {
      topDown.push(subtreeHash(store, start, split));
      start = split;
    }
  }
  return topDown.reverse();
}

/**
 * PROOF(fromSize, D[toSize]) of RFC 9162 §2.1.4.1; empty when there is nothing to prove
 * (fromSize 0 or fromSize === toSize).
 */
export function consistencyProof(store: NodeStore, fromSize: number, toSize: number): Buffer[] {
  requireCount('fromSize', fromSize);
  requireCount('toSize', toSize);
  if (fromSize > toSize) {
    throw new RangeError(`consistencyProof: fromSize ${fromSize} > toSize ${toSize}`);
  }
  if (fromSize === 0 || fromSize === toSize) return [];
  // SUBPROOF(m, D[start:end], complete), unrolled; m counts leaves from start.
  const topDown: Buffer[] = [];
  let start = 0;
  let end = toSize;
  let m = fromSize;
  let complete = true;
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      topDown.push(subtreeHash(store, start + k, end));
      end = start + k;
    } else {
      topDown.push(subtreeHash(store, start, start + k));
      start += k;
      m -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's root is only omitted while the
  // recursion never went right, i.e. when fromSize is a power of two (the verifier has it).
  if (!complete) topDown.push(subtreeHash(store, start, end));
  return topDown.reverse();
}

/**
 * The distinct nodes `work` reads, found by running it on a store that answers 32 zero bytes.
 * Which nodes the recursion visits depends only on sizes and indexes, never on hash values,
 * so a second run of `work` on a store holding exactly these nodes reads nothing else.
 */
export function planNodes(work: (store: NodeStore) => unknown): NodeId[] {
  const wanted = new Map<string, NodeId>();
  work({
    get(level: number, index: number): Buffer {
      const key = `${level}:${index}`;
      if (!wanted.has(key)) wanted.set(key, { level, index });
      return Buffer.alloc(32);
    },
  });
  return [...wanted.values()];
}

/**
 * The complete subtrees on the right edge of a tree of `size` leaves, one per set bit l of
 * size: (l, ⌊size / 2^l⌋ - 1). The next appended leaf combines only with these.
 */
export function frontier(size: number): NodeId[] {
  requireCount('size', size);
  const nodes: NodeId[] = [];
  let level = 0;
  for (let count = size; count > 0; count = half(count)) {
    if (isOdd(count)) nodes.push({ level, index: count - 1 });
    level++;
  }
  return nodes;
}

/**
 * Appends leaf hashes to a tree of `size` leaves and returns every node that becomes
 * complete (the new leaves included), in creation order. The store is read only for
 * frontier(size) nodes; nodes created in this call are read from the returned list.
 */
export function appendLeaves(
  store: NodeStore,
  size: number,
  leaves: Buffer[],
): (NodeId & { hash: Buffer })[] {
  requireCount('size', size);
  requireCount('size + leaves.length', size + leaves.length);
  const created: (NodeId & { hash: Buffer })[] = [];
  const fresh = new Map<string, Buffer>();
  const read = (level: number, index: number): Buffer =>
    fresh.get(`${level}:${index}`) ?? store.get(level, index);
  for (const [offset, leaf] of leaves.entries()) {
    if (!Buffer.isBuffer(leaf) || leaf.length !== 32) {
      throw new TypeError(`appendLeaves: leaf ${offset} is not a 32-byte leaf hash`);
    }
    let level = 0;
    let index = size + offset;
    let hash = leaf;
    for (;;) {
      created.push({ level, index, hash });
      fresh.set(`${level}:${index}`, hash);
      // A right child completes its parent; the left sibling is complete already.
      if (!isOdd(index)) break;
      hash = nodeHash(read(level, index - 1), hash);
      level++;
      index = (index - 1) / 2;
    }
  }
  return created;
}

/**
 * The right frontier of a tree being rebuilt leaf by leaf (one hash per set bit of its size),
 * for a verifier walking the whole log: each leaf costs one array write and, on average, one
 * node hash, and nothing else of the tree is kept.
 */
export class MerkleFrontier {
  private readonly nodes: Buffer[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends a 32-byte leaf hash. */
  push(leaf: Buffer): void {
    let hash = leaf;
    let level = 0;
    // Each trailing set bit of the old size is a left sibling completed by this leaf.
    for (let index = this.count; isOdd(index); index = (index - 1) / 2) {
      hash = nodeHash(this.nodes[level], hash);
      level++;
    }
    this.nodes[level] = hash;
    this.count++;
  }

  /** MTH of the leaves pushed so far (EMPTY_ROOT for none). */
  root(): Buffer {
    return rootHash(this.store(), this.count);
  }

  /** The frontier as a NodeStore: rootHash of the current size reads exactly these nodes. */
  private store(): NodeStore {
    const size = this.count;
    return {
      get: (level: number, index: number): Buffer => {
        const hash = this.nodes[level];
        if (hash === undefined || index !== Math.floor(size / 2 ** level) - 1 || !isOdd(index + 1))
          throw new Error(`node (${level}, ${index}) is not on the frontier of ${size}`);
        return hash;
      },
    };
  }
}

/**
 * RFC 9162 §2.1.3.2: does `path` prove that leaf hash `leaf` is entry `leafIndex` of the tree
 * of `treeSize` leaves whose root is `root`? Malformed input is a failed proof, never a throw.
 */
export function verifyInclusion(
  leaf: Buffer,
  leafIndex: number,
  treeSize: number,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (!isCount(leafIndex) || !isCount(treeSize) || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // sn === 0: the path reached the root, so it was neither truncated nor padded.
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `size2` leaves with root `root2`
 * extends the tree of `size1` leaves with root `root1`? Equal sizes need equal roots and an
 * empty proof; size1 0 needs the empty root and an empty proof (every tree extends it).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: Buffer[],
  root1: Buffer,
  root2: Buffer,
): boolean {
  if (!isCount(size1) || !isCount(size2) || size1 > size2) return false;
  if (size1 === 0) {
    return proof.length === 0 && root1.equals(EMPTY_ROOT) && (size2 > 0 || root2.equals(root1));
  }
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

/** MTH(D[start:end]) for 0 ≤ start < end, split as RFC 9162 splits. */
function subtreeHash(store: NodeStore, start: number, end: number): Buffer {
  const width = end - start;
  const level = exactLog2(width);
  if (level >= 0 && start % width === 0) return store.get(level, start / width);
  const split = start + largestPowerOfTwoBelow(width);
  return nodeHash(subtreeHash(store, start, split), subtreeHash(store, split, end));
}

/** The k of RFC 9162's split: the largest power of two smaller than n (n ≥ 2). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** l with 2^l = n, or -1 when n is not a power of two. */
function exactLog2(n: number): number {
  let level = 0;
  let power = 1;
  while (power < n) {
    power *= 2;
    level++;
  }
  return power === n ? level : -1;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && exactLog2(n) >= 0;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function requireCount(name: string, n: number): void {
  if (!isCount(n)) throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
}
