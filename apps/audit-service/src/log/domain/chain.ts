import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** The hash before the first entry: 32 zero bytes. */
export const GENESIS_HASH = Buffer.alloc(32);

/** The bytes an entry is hashed and leaf-hashed as: its RFC 8785 canonical JSON. */
export function entryBytes(entry: unknown): Buffer {
  return Buffer.from(canonicalJson(entry), 'utf8');
}

/**
 * hash = SHA-256(prevHash ‖ canonical entry). Each hash commits to every entry before it, so
 * changing, removing or reordering any entry breaks every hash after it.
 */
export function chainHash(prevHash: Buffer, bytes: Buffer | string): Buffer {
  return createHash('sha256').update(prevHash).update(bytes).digest();
}

/**
 * An entry's canonical JSON with its position still open: `before + seq + after` is
 * canonicalJson({ ...content, seq }). Canonicalising is most of an append's CPU and does not
 * depend on the position, so it is done before the chain lock is taken; only the number is
 * written under it.
 */
export interface EntryTemplate {
  before: string;
  after: string;
}

/** The template of canonicalJson({ ...content, seq }) for a plain-object content. */
export function entryTemplate(content: object): EntryTemplate {
  const prototype: unknown = Object.getPrototypeOf(content);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError('entryTemplate: an entry must be a plain object');
  }
  const record = content as Record<string, unknown>;
  // The members canonicalJson would write, in its order (UTF-16 code units), without "seq";
  // canonicalJson of the name applies its checks (lone surrogates) to names too.
  const keys = Object.keys(record)
    .filter((key) => key !== 'seq' && record[key] !== undefined)
    .sort();
  const members = keys.map((key) => `${canonicalJson(key)}:${canonicalJson(record[key])}`);
  let at = 0;
  while (at < keys.length && keys[at] < 'seq') at++;
  const head = members.slice(0, at).join(',');
  const tail = members.slice(at).join(',');
  return {
    before: `{${head}${head ? ',' : ''}"seq":`,
    after: `${tail ? ',' : ''}${tail}}`,
  };
}

/** The canonical JSON of the templated entry at position `seq`. */
export function fillTemplate(template: EntryTemplate, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`bad seq ${seq}`);
  return `${template.before}${seq}${template.after}`;
}
