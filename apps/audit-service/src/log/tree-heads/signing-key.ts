import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The Ed25519 key that signs tree heads, with its published id. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

/** Key id: the first 16 characters of the base64url SHA-256 of the public key (SPKI DER). */
export function signingKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}

function fromPrivatePem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('the tree-head signing key must be an Ed25519 private key (PEM, PKCS#8)');
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: signingKeyId(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * The configured key (AUDIT_SIGNING_KEY_FILE) or one generated once under DATA_DIR/keys.
 * Generation writes a temporary file and renames it, so replicas starting together on one
 * machine end up with the same key.
 */
export function loadSigningKey(keyFile: string | undefined, dataDir: string): SigningKey {
  if (keyFile) return fromPrivatePem(readFileSync(keyFile, 'utf8'));
  const path = join(dataDir, 'keys', 'audit-tree-head-ed25519.pem');
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const staging = `${path}.${process.pid}.tmp`;
    writeFileSync(staging, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      if (!existsSync(path)) renameSync(staging, path);
    } finally {
      rmSync(staging, { force: true });
    }
  }
  return fromPrivatePem(readFileSync(path, 'utf8'));
}
