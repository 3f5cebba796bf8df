import { entryBytes } from '../domain/chain';
import { leafHash, verifyInclusion } from '../domain/merkle';
import { verifyTreeHead, type TreeHead } from '../tree-heads/tree-head';

/** What `GET /v1/audit/entries/{seq}/proof` returns, as saved by a person or regulator. */
export interface SavedProof {
  seq: number;
  leafHash: string;
  treeSize: number;
  auditPath: string[];
  rootHash: string;
  entry: Record<string, unknown>;
  treeHead: TreeHead | null;
  /** The signer's public key (PEM), when saved alongside; otherwise given separately. */
  publicKey?: string;
}

/** One finding of an offline proof check. */
export interface ProofCheck {
  ok: boolean;
  checks: { name: string; ok: boolean }[];
}

/**
 * Checks a saved inclusion proof with nothing but the signer's public key: the entry hashes to
 * the leaf, the audit path leads from the leaf to the root (RFC 9162 §2.1.3.2), and the root is
 * the one the tree head signed.
 */
export function checkSavedProof(proof: SavedProof, publicKeyPem: string): ProofCheck {
  const checks: { name: string; ok: boolean }[] = [];
  const leaf = leafHash(entryBytes(proof.entry));
  checks.push({
    name: 'the entry hashes to the leaf hash',
    ok: leaf.toString('hex') === proof.leafHash,
  });
  checks.push({
    name: 'the entry is at the position claimed',
    ok: Number(proof.entry.seq) === proof.seq,
  });
  let included = false;
  try {
    included = verifyInclusion(
      leaf,
      proof.seq - 1,
      proof.treeSize,
      proof.auditPath.map((h) => Buffer.from(h, 'hex')),
      Buffer.from(proof.rootHash, 'hex'),
    );
  } catch {
    included = false;
  }
  checks.push({ name: 'the audit path leads from the leaf to the root', ok: included });
  const head = proof.treeHead;
  checks.push({
    name: 'a signed tree head covers exactly this tree',
    ok: head !== null && head.treeSize === proof.treeSize && head.rootHash === proof.rootHash,
  });
  let signed = false;
  try {
    signed = head !== null && verifyTreeHead(head, publicKeyPem);
  } catch {
    signed = false;
  }
  checks.push({ name: 'the tree head signature is valid for the public key', ok: signed });
  return { ok: checks.every((c) => c.ok), checks };
}
