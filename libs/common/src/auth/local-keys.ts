import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** The embedded setup's signing key pair: generated once under DATA_DIR, never committed. */
export interface LocalKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  kid: string;
}

/** Returns the local RSA key pair under `<dataDir>/keys`, generating it on first use. */
export function ensureLocalKeyPair(dataDir: string): LocalKeyPair {
  const dir = join(dataDir, 'keys');
  const privatePath = join(dir, 'jwt-private.pem');
  const publicPath = join(dir, 'jwt-public.pem');
  if (!existsSync(privatePath) || !existsSync(publicPath)) generateInto(dataDir, dir);
  const publicKeyPem = readFileSync(publicPath, 'utf8');
  return {
    privateKeyPem: readFileSync(privatePath, 'utf8'),
    publicKeyPem,
    kid: keyIdOf(publicKeyPem),
  };
}

/**
 * Several processes (the three services, the token tool) may find no keys at the same moment.
 * Each generates a pair in a private temporary directory and renames it into place: the rename
 * is atomic and fails when another process got there first, so every process ends up reading
 * the one pair that won, never a pair of its own that the others do not know.
 */
function generateInto(dataDir: string, dir: string): void {
  // Only the keys directory is private: DATA_DIR also holds PostgreSQL's data, which the
  // `postgres` user must be able to reach when the launcher runs as root.
  mkdirSync(dataDir, { recursive: true });
  const staging = mkdtempSync(join(dataDir, '.keys-'));
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(staging, 'jwt-public.pem'), publicKey, { mode: 0o644 });
    writeFileSync(join(staging, 'jwt-private.pem'), privateKey, { mode: 0o600 });
    try {
      renameSync(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another process installed its pair first; ours is discarded below.
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A stable key id: the first 16 characters of the base64url SHA-256 of the public key (DER). */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}
