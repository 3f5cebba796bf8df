import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { freePort } from '../../scripts/embedded-postgres';
import { DIST, startScript } from '../support/child-process';
import { createTestDatabase } from '../support/test-database';
import { testDataDir } from '../support/service-app';

jest.setTimeout(60_000);

const main = (service: string): string => join(DIST, 'apps', service, 'src', 'main.js');
const migrate = (service: string): string => join(DIST, 'apps', service, 'src', 'migrate.js');

describe('a service process', () => {
  it('refuses to start, naming each bad variable, when its configuration is invalid', () => {
    const result = spawnSync(process.execPath, [main('consent-service')], {
      env: { PATH: process.env.PATH, PORT: 'seventy', KAFKA_BROKERS: 'nohost' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('consent-service: Invalid configuration');
    expect(result.stderr).toMatch(/DATABASE_URL must be a postgres:\/\/ connection URL/);
    expect(result.stderr).toMatch(/PORT must be/);
    expect(result.stderr).toMatch(/KAFKA_BROKERS must be a comma-separated host:port list/);
  });

  it('migrates, serves, and on SIGTERM stops cleanly with exit code 0', async () => {
    const db = await createTestDatabase('process');
    const port = await freePort();
    const env = { DATABASE_URL: db.url, PORT: String(port), DATA_DIR: testDataDir() };
    const migrated = spawnSync(process.execPath, [migrate('audit-service')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toContain(
      `migrations applied: ${(AuditServiceDefinition.migrations as unknown[]).length}`,
    );
    const again = spawnSync(process.execPath, [migrate('audit-service')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(again.stdout).toContain('migrations applied: 0');

    const child = await startScript('apps/audit-service/src/main.js', env, '"msg":"listening"');
    let logs = '';
    child.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(logs).toContain('"msg":"stopped"');
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    await db.drop();
  });
});
