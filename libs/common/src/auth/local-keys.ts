import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    // Only the keys directory is private: DATA_DIR also holds PostgreSQL's data, which the
    // `postgres` user must be able to reach when the launcher runs as root.
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    // Written public-first: a reader that finds the private key always finds its pair.
    writeFileSync(publicPath, publicKey, { mode: 0o644, flag: 'w' });
    writeFileSync(privatePath, privateKey, { mode: 0o600, flag: 'w' });
    chmodSync(privatePath, 0o600);
  }
  const publicKeyPem = readFileSync(publicPath, 'utf8');
  return {
    privateKeyPem: readFileSync(privatePath, 'utf8'),
    publicKeyPem,
    kid: keyIdOf(publicKeyPem),
  };
}

/** A stable key id: the first 16 characters of the base64url SHA-256 of the public key (DER). */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}
