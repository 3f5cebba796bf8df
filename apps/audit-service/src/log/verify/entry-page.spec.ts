import { createHash } from 'node:crypto';
import { EntryPage, ROW_RESULT } from './entry-page';

/** A binary COPY stream of `rows`, as PostgreSQL writes one (values null for NULL). */
function copyStream(rows: (Buffer | null)[][]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const value of row) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(value === null ? -1 : value.length);
      parts.push(length, ...(value === null ? [] : [value]));
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}
const int8 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};
const filled = (byte: number, length = 32) => Buffer.alloc(length, byte);
const bool = (value: boolean) => Buffer.from([value ? 1 : 0]);

describe('EntryPage: a binary COPY page read in place', () => {
  const entries = copyStream([
    [int8(11), Buffer.from('{"a":1}'), filled(1), filled(2), bool(true)],
    [int8(12), null, null, filled(3), bool(false)],
    [int8(13), Buffer.from('{"b":"é"}'), filled(4, 31), null, null],
  ]);

  it('walks the rows and compares each value where it lies', () => {
    // Leaves for seq 11 and 13 (indexes 10 and 12); 12's is the wrong length, so absent.
    const leaves = copyStream([
      [int8(10), filled(7)],
      [int8(11), filled(8, 31)],
      [int8(12), filled(9)],
    ]);
    const page = new EntryPage(entries, leaves, 10, 10);

    expect(page.next()).toBe(true);
    expect(page.seq).toBe(11);
    expect(page.hasBytes()).toBe(true);
    expect(page.prevHashEquals(filled(1))).toBe(true);
    expect(page.prevHashEquals(filled(2))).toBe(false);
    expect(page.hashEquals(filled(2))).toBe(true);
    expect(page.leafEquals(filled(7))).toBe(true);
    expect(page.leafEquals(filled(8))).toBe(false);
    expect(page.columnsAgree).toBe(true);

    expect(page.next()).toBe(true);
    expect(page.seq).toBe(12);
    expect(page.hasBytes()).toBe(false);
    expect(page.prevHashEquals(filled(1))).toBe(false);
    expect(page.leafEquals(filled(8, 31))).toBe(false);
    expect(page.columnsAgree).toBe(false);

    expect(page.next()).toBe(true);
    expect(page.seq).toBe(13);
    // A stored hash of the wrong length never equals a computed one.
    expect(page.prevHashEquals(filled(4))).toBe(false);
    expect(page.hashEquals(filled(4))).toBe(false);
    expect(page.leafEquals(filled(9))).toBe(true);
    expect(page.columnsAgree).toBe(false);

    expect(page.next()).toBe(false);
  });

  it('hashes every row: its leaf, and whether SHA-256(stored prev ‖ bytes) is its stored hash', () => {
    const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    const bytes = Buffer.from('{"a":1}');
    const prev = filled(5);
    const rows = copyStream([
      [int8(1), bytes, prev, sha(prev, bytes), bool(true)],
      [int8(2), bytes, prev, filled(6), bool(true)],
      [int8(3), null, prev, filled(6), bool(true)],
      [int8(4), bytes, filled(5, 31), sha(prev, bytes), bool(true)],
    ]);
    const results = Buffer.alloc(4 * ROW_RESULT, 0xee);
    expect(EntryPage.hashRows(rows, results)).toBe(4);
    const row = (i: number) => results.subarray(i * ROW_RESULT, (i + 1) * ROW_RESULT);
    expect(row(0)).toEqual(Buffer.concat([sha(Buffer.from([0]), bytes), Buffer.from([1])]));
    // A stored hash that is not the chain's: the leaf still, and 0.
    expect(row(1)).toEqual(Buffer.concat([sha(Buffer.from([0]), bytes), Buffer.from([0])]));
    // No bytes, or a prev_hash that is not 32 bytes: nothing to hash.
    expect(row(2)).toEqual(Buffer.alloc(ROW_RESULT));
    expect(row(3)).toEqual(Buffer.alloc(ROW_RESULT));
  });

  it('gives the bytes of every row that has them', () => {
    const page = new EntryPage(entries, copyStream([]), 10, 10);
    expect(EntryPage.allBytes(page).map((b) => b.toString())).toEqual(['{"a":1}', '{"b":"é"}']);
  });

  it('refuses what is not a binary COPY stream, or rows of another width', () => {
    expect(() => new EntryPage(Buffer.from('seq,entry\n'), copyStream([]), 0, 1)).toThrow(
      /not a binary COPY stream/,
    );
    const narrow = new EntryPage(copyStream([[int8(1), null]]), copyStream([]), 0, 1);
    expect(() => narrow.next()).toThrow(/2 fields, expected 5/);
  });
});
