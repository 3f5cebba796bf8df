import { hash } from 'node:crypto';

/** The 11-byte signature that opens PostgreSQL's binary COPY format. */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Values per row of the entries query: seq, entry_canonical, prev_hash, hash, columns agree. */
const ENTRY_FIELDS = 5;
/** Bytes per row of EntryPage.hashRows' results: the leaf, then whether the chain hash holds. */
export const ROW_RESULT = 33;

const sha256 = (data: Buffer): Buffer => hash('sha256', data, 'buffer') as Buffer;

/** Where the first row of a binary COPY stream starts (after signature, flags, extension). */
function firstRow(data: Buffer): number {
  if (data.length < 19 || !data.subarray(0, 11).equals(COPY_SIGNATURE)) {
    throw new Error('not a binary COPY stream');
  }
  return 19 + data.readUInt32BE(15);
}

/**
 * A page of log entries as PostgreSQL sent them (binary COPY), read in place: a cursor over
 * the rows that compares and copies values where they lie instead of making an object per
 * value, because at a million entries the garbage of per-row objects cost as much as parsing.
 *
 * `entries` is the output of `SELECT seq, entry_canonical, prev_hash, hash, <bool>` and
 * `leaves` of `SELECT index, hash FROM merkle_nodes WHERE level = 0` for leaf indexes
 * [first, first + size), i.e. for seq (first, first + size].
 */
export class EntryPage {
  /** The current row's position (after `next()` returned true). */
  seq = 0;
  /** The current row's stored columns agree with its entry (PostgreSQL's check). */
  columnsAgree = false;
  private at: number;
  private bytesStart = -1;
  private bytesEnd = -1;
  private prevStart = -1;
  private prevEnd = -1;
  private hashStart = -1;
  private hashEnd = -1;
  /** Where the value last read by `value()` ends. */
  private end = -1;
  private readonly leafOffsets: Int32Array;

  constructor(
    private readonly entries: Buffer,
    /** null when only the entries are read (to hash them). */
    private readonly leaves: Buffer | null,
    private readonly first: number,
    size: number,
  ) {
    this.at = firstRow(entries);
    this.leafOffsets = new Int32Array(size).fill(-1);
    if (leaves === null) return;
    let at = firstRow(leaves);
    for (;;) {
      const fields = leaves.readInt16BE(at);
      at += 2;
      if (fields === -1) break;
      if (fields !== 2) throw new Error(`a COPY row of ${fields} fields, expected 2`);
      const indexLength = leaves.readInt32BE(at);
      at += 4;
      const index = indexLength === 8 ? Number(leaves.readBigInt64BE(at)) : -1;
      at += Math.max(0, indexLength);
      const hashLength = leaves.readInt32BE(at);
      at += 4;
      const slot = index - first;
      // A stored leaf that is not 32 bytes is no leaf: it stays absent.
      if (hashLength === 32 && slot >= 0 && slot < size) this.leafOffsets[slot] = at;
      at += Math.max(0, hashLength);
    }
  }

  /** The rows as received (to hand to EntryPage.hashRows, maybe on another thread). */
  get rows(): Buffer {
    return this.entries;
  }

  /** Moves to the next row; false after the last. */
  next(): boolean {
    const data = this.entries;
    const fields = data.readInt16BE(this.at);
    this.at += 2;
    if (fields === -1) return false;
    if (fields !== ENTRY_FIELDS) {
      throw new Error(`a COPY row of ${fields} fields, expected ${ENTRY_FIELDS}`);
    }
    const seqLength = data.readInt32BE(this.at);
    this.at += 4;
    this.seq = seqLength === 8 ? Number(data.readBigInt64BE(this.at)) : 0;
    this.at += Math.max(0, seqLength);
    this.bytesStart = this.value();
    this.bytesEnd = this.end;
    this.prevStart = this.value();
    this.prevEnd = this.end;
    this.hashStart = this.value();
    this.hashEnd = this.end;
    const agree = this.value();
    this.columnsAgree = this.end - agree === 1 && data[agree] === 1;
    return true;
  }

  /** Whether the current row has its hashed bytes (only a tamperer could remove them). */
  hasBytes(): boolean {
    return this.bytesStart >= 0;
  }

  prevHashEquals(hash: Buffer): boolean {
    return this.equals(hash, this.prevStart, this.prevEnd);
  }

  hashEquals(hash: Buffer): boolean {
    return this.equals(hash, this.hashStart, this.hashEnd);
  }

  /** Copies the current row's stored hash (32 bytes, checked by hashEquals first) to `target`. */
  copyHash(target: Buffer): void {
    this.entries.copy(target, 0, this.hashStart, this.hashEnd);
  }

  /** Whether the stored leaf of the current row is `hash` (false when none is stored). */
  leafEquals(hash: Buffer): boolean {
    const slot = this.seq - 1 - this.first;
    if (slot < 0 || slot >= this.leafOffsets.length) return false;
    const offset = this.leafOffsets[slot];
    return (
      offset >= 0 && this.leaves !== null && hash.compare(this.leaves, offset, offset + 32) === 0
    );
  }

  /** The hashed bytes of every row, in order (copies; for measurements, not the verifier). */
  static allBytes(page: EntryPage): Buffer[] {
    const bytes: Buffer[] = [];
    while (page.next()) {
      if (page.hasBytes())
        bytes.push(Buffer.from(page.entries.subarray(page.bytesStart, page.bytesEnd)));
    }
    return bytes;
  }

  /**
   * Hashes every row of `entries` (rows as in EntryPage, from `start`) into `results`, 33 bytes
   * per row in order: its Merkle leaf SHA-256(0x00 ‖ bytes), then 1 when SHA-256(stored
   * prev_hash ‖ bytes) is its stored hash, else 0. With the check that each stored prev_hash is
   * the hash before it, that is the chain recomputed; rows are independent, so another thread
   * can do it. Returns the number of rows.
   */
  static hashRows(entries: Buffer, results: Buffer): number {
    const page = new EntryPage(entries, null, 0, 0);
    let scratch = Buffer.allocUnsafe(64 * 1024);
    let row = 0;
    while (page.next()) {
      const at = row * ROW_RESULT;
      results.fill(0, at, at + ROW_RESULT);
      if (page.bytesStart >= 0 && page.prevEnd - page.prevStart === 32) {
        const length = page.bytesEnd - page.bytesStart;
        if (scratch.length < 32 + length) scratch = Buffer.allocUnsafe(2 * (32 + length));
        entries.copy(scratch, 0, page.prevStart, page.prevEnd);
        entries.copy(scratch, 32, page.bytesStart, page.bytesEnd);
        const chain = sha256(scratch.subarray(0, 32 + length));
        results[at + 32] = page.hashEquals(chain) ? 1 : 0;
        scratch[31] = 0x00;
        sha256(scratch.subarray(31, 32 + length)).copy(results, at);
      }
      row += 1;
    }
    return row;
  }

  private equals(hash: Buffer, start: number, end: number): boolean {
    return (
      start >= 0 && end - start === hash.length && hash.compare(this.entries, start, end) === 0
    );
  }

  /** Where the next value starts (-1 for NULL); it ends at `this.end`. */
  private value(): number {
    const length = this.entries.readInt32BE(this.at);
    this.at += 4;
    if (length === -1) {
      this.end = -1;
      return -1;
    }
    const start = this.at;
    this.at += length;
    this.end = this.at;
    return start;
  }
}
