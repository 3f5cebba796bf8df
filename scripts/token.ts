// `npm run token -- --sub U --org ORG --roles r1,r2 [--teams t1] [--name N] [--expires-in 8h]`
// prints a development token signed by the embedded setup's local key (.data/keys).
import { join, resolve } from 'node:path';
import { ensureLocalKeyPair, parseTokenArgs, ROLES, signLocalToken } from '#common';

const dataDir = resolve(process.env.DATA_DIR ?? join(__dirname, '..', '..', '.data'));
try {
  const request = parseTokenArgs(process.argv.slice(2));
  process.stdout.write(`${signLocalToken(ensureLocalKeyPair(dataDir), request)}\n`);
} catch (error) {
  process.stderr.write(
    `token: ${(error as Error).message}\n` +
      `usage: npm run token -- --sub U --org ORG --roles r1,r2 [--teams t1,t2] [--name "A. Name"] [--expires-in 8h]\n` +
      `roles: ${ROLES.join(', ')}\n`,
  );
  process.exit(1);
}
