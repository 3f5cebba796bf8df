// `npm start`: the whole system on one machine. Embedded PostgreSQL (real binaries from npm,
// data under .data/pg) unless DATABASE_URL is set, migrations, then the three services as
// supervised child processes. Ctrl-C stops everything and leaves no process behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { ensureLocalKeyPair, LOCAL_DATABASE_NAME, LOCAL_PG_PORT } from '#common';
import { startEmbeddedPostgres, type StartedPostgres } from './embedded-postgres';

const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const env = process.env;
const DATA_DIR = resolve(env.DATA_DIR ?? join(ROOT, '.data'));

interface ServiceSpec {
  name: string;
  port: number;
}

const SERVICES: ServiceSpec[] = [
  { name: 'consent-service', port: Number(env.CONSENT_PORT ?? 3001) },
  { name: 'sharing-gateway', port: Number(env.GATEWAY_PORT ?? 3002) },
  { name: 'audit-service', port: Number(env.AUDIT_PORT ?? 3003) },
];

function say(message: string): void {
  process.stdout.write(`[start] ${message}\n`);
}

let stopping = false;
let postgres: StartedPostgres | null = null;
const children = new Map<string, ChildProcess>();

async function main(): Promise<void> {
  const databaseUrl = env.DATABASE_URL || (await startDatabase());
  // The key pair exists before any service starts, so all three load the same public key.
  ensureLocalKeyPair(DATA_DIR);
  const serviceEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    DATA_DIR,
    NODE_ENV: env.NODE_ENV ?? 'development',
  };
  for (const service of SERVICES) {
    say(`migrating ${service.name}`);
    execFileSync(process.execPath, [join(DIST, 'apps', service.name, 'src', 'migrate.js')], {
      env: serviceEnv,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  for (const service of SERVICES) supervise(service, { ...serviceEnv, PORT: String(service.port) });
  await waitUntilReady();
  if (stopping) return;
  const token = execFileSync(
    process.execPath,
    [
      join(DIST, 'scripts', 'token.js'),
      '--sub',
      'admin',
      '--org',
      'X26',
      '--roles',
      'admin,ig_officer',
      '--name',
      'Local Administrator',
    ],
    { env: { ...env, DATA_DIR } },
  )
    .toString()
    .trim();
  process.stdout.write(
    [
      '',
      'Care Consent Ledger is running:',
      ...SERVICES.map(
        (s) =>
          `  ${s.name.padEnd(16)} http://localhost:${s.port}   (API docs: http://localhost:${s.port}/docs)`,
      ),
      `  transport        ${env.KAFKA_BROKERS ? `Kafka (${env.KAFKA_BROKERS})` : 'PostgreSQL outbox'}`,
      `  database         ${env.DATABASE_URL ? 'external (DATABASE_URL)' : `embedded PostgreSQL, data in ${join(DATA_DIR, 'pg')}`}`,
      '',
      'Admin token (admin + ig_officer at organisation X26, valid 8 hours):',
      `  ${token}`,
      '',
      'Try:',
      `  curl -H "Authorization: Bearer $TOKEN" http://localhost:${SERVICES[0].port}/v1/me`,
      'More tokens: npm run token -- --sub U --org ORG --roles r1,r2 [--teams t1]',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

async function startDatabase(): Promise<string> {
  const dataDir = join(DATA_DIR, 'pg');
  const port = Number(env.PG_PORT ?? LOCAL_PG_PORT);
  stopLeftoverPostgres(dataDir);
  say(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in ${dataDir})`);
  postgres = await startEmbeddedPostgres({ dataDir, port });
  const admin = new Client({ connectionString: postgres.url() });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
    LOCAL_DATABASE_NAME,
  ]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${LOCAL_DATABASE_NAME}`);
  await admin.end();
  return postgres.url(LOCAL_DATABASE_NAME);
}

/** A launcher killed with SIGKILL leaves its PostgreSQL running; stop it before starting anew. */
function stopLeftoverPostgres(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
    say(`stopping PostgreSQL left running by an earlier start (pid ${pid})`);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      process.kill(pid, 0);
      execFileSync('sleep', ['0.2']);
    }
  } catch {
    /* not running (any more) */
  }
}

function supervise(service: ServiceSpec, childEnv: NodeJS.ProcessEnv, restarts = 0): void {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [join(DIST, 'apps', service.name, 'src', 'main.js')], {
    env: childEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.set(service.name, child);
  child.on('exit', (code, signal) => {
    children.delete(service.name);
    if (stopping) return;
    // A service that ran a minute counts as healthy again: the backoff starts over.
    const attempt = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
    const delay = Math.min(30_000, 500 * 2 ** attempt);
    say(
      `${service.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms (restart ${attempt})`,
    );
    setTimeout(() => {
      if (!stopping) supervise(service, childEnv, attempt);
    }, delay);
  });
}

async function waitUntilReady(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(SERVICES);
  while (pending.size > 0 && !stopping) {
    for (const service of [...pending]) {
      try {
        const response = await fetch(`http://127.0.0.1:${service.port}/health/ready`);
        if (response.ok) pending.delete(service);
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `not ready after ${timeoutMs} ms: ${[...pending].map((s) => s.name).join(', ')}`,
      );
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 250));
  }
}

async function shutdown(signal: string, exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping services`);
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((done) => {
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  if (postgres) {
    say('stopping PostgreSQL');
    await postgres.stop();
  }
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
main().catch(async (error: unknown) => {
  process.stderr.write(
    `[start] failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await shutdown('error', 1);
});
