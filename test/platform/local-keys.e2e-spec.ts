import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { DIST } from '../support/child-process';

const run = promisify(execFile);

jest.setTimeout(60_000);

describe('local key pair on first start', () => {
  it('is the same pair for every process that finds no keys at the same moment', async () => {
    // The three services and the token tool all start on an empty DATA_DIR under `npm start`;
    // a token signed by one of them must verify in all the others.
    const dataDir = mkdtempSync(join(tmpdir(), 'care-ledger-keys-'));
    try {
      const args = [join(DIST, 'scripts', 'token.js'), '--sub', 'u1', '--org', 'X26'];
      const tokens = await Promise.all(
        Array.from({ length: 6 }, () =>
          run(process.execPath, [...args, '--roles', 'admin'], {
            env: { ...process.env, DATA_DIR: dataDir },
          }).then(({ stdout }) => stdout.trim()),
        ),
      );
      const publicKey = readFileSync(join(dataDir, 'keys', 'jwt-public.pem'), 'utf8');
      for (const token of tokens) {
        expect(jwt.verify(token, publicKey, { algorithms: ['RS256'] })).toMatchObject({
          sub: 'u1',
        });
      }
      expect(readdirSync(dataDir)).toEqual(['keys']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
