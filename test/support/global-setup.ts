import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEmbeddedPostgres } from '../../scripts/embedded-postgres';

/**
 * Starts one embedded PostgreSQL for the whole run (each test file makes its own database in it)
 * and compiles the project, because some tests run compiled code in child processes.
 */
export default async function globalSetup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  try {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root, stdio: 'inherit' },
    );
  } catch {
    // tsc still emits JavaScript; type errors fail `npm run lint`, which `npm test` runs first.
    process.stderr.write('globalSetup: tsc reported type errors (see above); continuing\n');
  }
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-test-pg-'));
  chmodSync(dir, 0o755); // as root, the server runs as `postgres` and must reach its data
  const started = await startEmbeddedPostgres({
    dataDir: join(dir, 'data'),
    port: await freePort(),
  });
  process.env.TEST_DATABASE_URL = started.url();
  (globalThis as { __careLedgerPg?: { stop: () => Promise<void>; dir: string } }).__careLedgerPg = {
    stop: started.stop,
    dir,
  };
}

export async function stopGlobalPostgres(): Promise<void> {
  const handle = (globalThis as { __careLedgerPg?: { stop: () => Promise<void>; dir: string } })
    .__careLedgerPg;
  if (!handle) return;
  await handle.stop();
  rmSync(handle.dir, { recursive: true, force: true });
}
