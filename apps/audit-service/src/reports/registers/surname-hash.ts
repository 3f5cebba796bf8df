import { createHmac } from 'node:crypto';

/**
 * A surname reduced to what makes two spellings the same name: accents, case, spaces,
 * hyphens and apostrophes dropped (O'Brien, OBRIEN and O Brien match; so do Zoë and Zoe).
 * Empty when nothing of a name is left.
 */
export function normaliseSurname(surname: string): string {
  return surname
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
}

/**
 * HMAC-SHA-256 of the normalised surname under the register's secret key. Only this is stored:
 * the log and its reports must not hold names (identifiers and codes only), and a plain hash of
 * a surname is undone by hashing a list of surnames; without the key it cannot be.
 */
export function surnameHash(key: Buffer, surname: string): Buffer {
  return createHmac('sha256', key)
    .update(`surname:v1:${normaliseSurname(surname)}`)
    .digest();
}

/**
 * A name for the key that reveals nothing of it, stored with every hash: hashes made under
 * different keys never match, so a replica or restart with another key must be noticed.
 */
export function surnameKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('surname-key-id').digest('base64url').slice(0, 16);
}
