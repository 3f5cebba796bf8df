// `npm run audit:verify`: recomputes the audit chain and Merkle tree from the stored entries,
// checks every signed tree head, and names the first bad entry. Exit code 1 when not intact.
import 'reflect-metadata';
import { createServiceDataSource, loadConfig, withLocalDatabase } from '#common';
import { AuditServiceDefinition } from './audit-service.definition';
import { AuditServiceEnv, environment } from './config/env';
import { LogVerifier } from './log/verify/log-verifier';

function bar(done: number, total: number, started: number): string {
  const width = 30;
  const share = total === 0 ? 1 : done / total;
  const filled = Math.round(share * width);
  const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-GB')}/${total.toLocaleString('en-GB')} entries ${rate.toLocaleString('en-GB')}/s`;
}

async function main(): Promise<number> {
  const config = loadConfig(AuditServiceEnv, { PORT: '0', ...withLocalDatabase(environment()) });
  const ds = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: AuditServiceDefinition.schema,
    migrations: [],
    // The verifier reads three pages at once, each on a connection of its own.
    poolSize: 4,
    applicationName: 'audit-verify',
  });
  await ds.initialize();
  try {
    const verifier = new LogVerifier(ds);
    const started = Date.now();
    const tty = process.stderr.isTTY;
    let lastShare = -1;
    const result = await verifier.verify((done, total) => {
      const share = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (tty) process.stderr.write(`\r${bar(done, total, started)}`);
      else if (share >= lastShare + 10 || done === total) {
        lastShare = share;
        process.stderr.write(`${bar(done, total, started)}\n`);
      }
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(
      result.ok
        ? `audit log intact: ${result.checked} entries, ${result.treeHeadsChecked} signed tree heads checked\n`
        : `audit log NOT intact: first bad entry ${result.firstBadSeq} (${result.problem}); ${result.checked} entries before it are intact\n`,
    );
    return result.ok ? 0 : 1;
  } finally {
    await ds.destroy();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(
      `audit:verify failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  });
