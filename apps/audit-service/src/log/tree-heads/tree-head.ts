import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';

/** A signed tree head as published (API.md): hex hashes, base64 signature, ISO time. */
export interface TreeHead {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  signature: string;
  keyId: string;
}

/**
 * What is signed: the canonical JSON of size, root, time and key id. Anyone holding the
 * public key can rebuild these bytes from a published tree head and check the signature.
 */
export function treeHeadMessage(head: Omit<TreeHead, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({
      keyId: head.keyId,
      rootHash: head.rootHash,
      timestamp: head.timestamp,
      treeSize: head.treeSize,
    }),
    'utf8',
  );
}

/** Signs a tree head with Ed25519. */
export function signTreeHead(head: Omit<TreeHead, 'signature'>, privateKey: KeyObject): TreeHead {
  return { ...head, signature: sign(null, treeHeadMessage(head), privateKey).toString('base64') };
}

/** Whether a tree head's signature is valid under the given public key. */
export function verifyTreeHead(head: TreeHead, publicKey: KeyObject | string): boolean {
  return verify(null, treeHeadMessage(head), publicKey, Buffer.from(head.signature, 'base64'));
}
