import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/embedded-postgres';
import { DIST } from '../support/child-process';

jest.setTimeout(150_000);

/** Processes whose command line mentions `needle` (the launcher, its services, PostgreSQL). */
function processesMentioning(needle: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

describe('npm start (embedded PostgreSQL, three services)', () => {
  it('is ready on all three ports within 60 s of a cold start and leaves nothing behind on Ctrl-C', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'care-ledger-start-'));
    chmodSync(dataDir, 0o755);
    const ports = [await freePort(), await freePort(), await freePort()];
    const launcher = spawn(process.execPath, [join(DIST, 'scripts', 'start.js')], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PG_PORT: String(await freePort()),
        CONSENT_PORT: String(ports[0]),
        GATEWAY_PORT: String(ports[1]),
        AUDIT_PORT: String(ports[2]),
        LOG_LEVEL: 'warn',
        DATABASE_URL: '',
        KAFKA_BROKERS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout.on('data', (d: Buffer) => (output += d.toString()));
    launcher.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      launcher.on('exit', (code) => resolve(code)),
    );
    try {
      const started = Date.now();
      while (!output.includes('Care Consent Ledger is running')) {
        if (Date.now() - started > 60_000) throw new Error(`not running after 60 s:\n${output}`);
        if (launcher.exitCode !== null) throw new Error(`launcher exited:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const port of ports) {
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
        expect(ready.status).toBe(200);
      }
      const token = /Admin token[^\n]*\n\s+(\S+)/.exec(output)?.[1];
      expect(token).toMatch(/^ey/);
      const me = await fetch(`http://127.0.0.1:${ports[1]}/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        userId: 'admin',
        org: 'X26',
        roles: ['admin', 'ig_officer'],
      });
      expect(processesMentioning(dataDir).length).toBeGreaterThan(0);
    } finally {
      launcher.kill('SIGINT');
      const code = await exited;
      expect(code).toBe(0);
    }
    expect(output).toContain('[start] stopped');
    expect(processesMentioning(dataDir)).toEqual([]);
    for (const port of ports) {
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
});
