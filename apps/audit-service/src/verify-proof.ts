// `npm run audit:verify-proof -- proof.json [--key public-key.pem]`: checks a saved inclusion
// proof offline, with only the audit service's public key. What a person or a regulator runs.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkSavedProof, type SavedProof } from './log/verify/proof-check';

function main(): number {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { key: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: audit:verify-proof -- proof.json [--key public-key.pem]\n');
    return 2;
  }
  const proof = JSON.parse(readFileSync(positionals[0], 'utf8')) as SavedProof;
  const key = values.key ? readFileSync(values.key, 'utf8') : proof.publicKey;
  if (!key) {
    process.stderr.write('no public key: pass --key or save publicKey in the proof file\n');
    return 2;
  }
  const result = checkSavedProof(proof, key);
  for (const check of result.checks)
    process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}\n`);
  process.stdout.write(
    result.ok
      ? `VALID: entry ${proof.seq} is in the log of ${proof.treeSize} entries signed by key ${proof.treeHead?.keyId}\n`
      : `INVALID: this proof does not show entry ${proof.seq} is in the signed log\n`,
  );
  return result.ok ? 0 : 1;
}

try {
  process.exit(main());
} catch (error) {
  process.stderr.write(
    `audit:verify-proof failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(2);
}
