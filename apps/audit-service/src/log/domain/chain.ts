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
export function chainHash(prevHash: Buffer, bytes: Buffer): Buffer {
  return createHash('sha256').update(prevHash).update(bytes).digest();
}
