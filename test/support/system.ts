import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureLocalKeyPair, type Role } from '#common';
import { freePort } from '../../scripts/embedded-postgres';
import { DIST } from './child-process';
import { createTestDatabase } from './test-database';
import { tokenFor } from './tokens';

export type ServiceName = 'consent-service' | 'sharing-gateway' | 'audit-service';
export const SERVICE_NAMES: readonly ServiceName[] = [
  'consent-service',
  'sharing-gateway',
  'audit-service',
];

export interface SystemOptions {
  /** Kafka bootstrap brokers; without them events travel through the PostgreSQL outbox. */
  kafkaBrokers?: string[];
  /** Extra variables for every service. */
  env?: Record<string, string>;
  /** Extra variables for one service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** An existing database URL (e.g. a PostgreSQL the test stops and starts); default: a fresh one. */
  databaseUrl?: string;
}

/**
 * The three services as separate compiled processes over HTTP and a real transport, as
 * `npm start` runs them: one database, one local key pair, ports chosen at random.
 */
export interface RunningSystem {
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly transport: 'postgres' | 'kafka';
  /** Base URL of a service, e.g. http://127.0.0.1:41234 */
  url(service: ServiceName): string;
  token(claims: { sub: string; org: string; roles: Role[]; teams?: string[] }): string;
  /** The process of a service while it runs (undefined after kill until start). */
  process(service: ServiceName): ChildProcess | undefined;
  /** Output a service printed since it was (re)started, for failure messages. */
  output(service: ServiceName): string;
  /** Kills a service (SIGKILL by default) and waits until it has exited. */
  kill(service: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service on its old port and waits until /health/ready answers 200. */
  start(service: ServiceName, timeoutMs?: number): Promise<void>;
  /** Stops all services (SIGTERM, then SIGKILL) and drops the database it created. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'care-ledger-system-'));
  chmodSync(dataDir, 0o755);
  ensureLocalKeyPair(dataDir); // before any service starts, so all three load the same key
  const created = options.databaseUrl ? undefined : await createTestDatabase('sys');
  const databaseUrl = options.databaseUrl ?? created!.url;
  const ports = new Map<ServiceName, number>();
  for (const name of SERVICE_NAMES) ports.set(name, await freePort());
  const kafka = options.kafkaBrokers;
  const baseEnv: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DB_POOL_SIZE: '10',
    TRANSPORT_POLL_INTERVAL_MS: '20',
    KAFKA_BROKERS: kafka ? kafka.join(',') : '',
    // The librdkafka mock cannot serve the idempotent producer; fast group joins for tests.
    KAFKA_IDEMPOTENT: 'false',
    KAFKA_SESSION_TIMEOUT_MS: '3000',
    KAFKA_MAX_WAIT_MS: '100',
    TREE_HEAD_INTERVAL_MS: '500',
    ...options.env,
  };
  const envFor = (name: ServiceName): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...baseEnv,
      ...options.serviceEnv?.[name],
      PORT: String(ports.get(name)),
    };
    if (!env.KAFKA_BROKERS) delete env.KAFKA_BROKERS;
    return env;
  };
  const children = new Map<ServiceName, ChildProcess>();
  const outputs = new Map<ServiceName, string>();
  const url = (name: ServiceName): string => `http://127.0.0.1:${ports.get(name)}`;

  const spawnService = (name: ServiceName): ChildProcess => {
    const child = spawn(process.execPath, [join(DIST, 'apps', name, 'src', 'main.js')], {
      env: envFor(name),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    outputs.set(name, '');
    const keep = (d: Buffer): void => {
      // Keep the tail only: long fault runs would otherwise grow without bound.
      outputs.set(name, (outputs.get(name)! + d.toString()).slice(-20_000));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.set(name, child);
    child.once('exit', () => {
      if (children.get(name) === child) children.delete(name);
    });
    return child;
  };

  const waitReady = async (name: ServiceName, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = children.get(name);
      if (!child) throw new Error(`${name} exited before it was ready:\n${outputs.get(name)}`);
      try {
        const response = await fetch(`${url(name)}/health/ready`);
        if (response.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        throw new Error(`${name} not ready after ${timeoutMs} ms:\n${outputs.get(name)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const kill = (name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> =>
    new Promise((resolve) => {
      const child = children.get(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill(signal);
    });

  const system: RunningSystem = {
    dataDir,
    databaseUrl,
    transport: kafka ? 'kafka' : 'postgres',
    url,
    token: (claims) => tokenFor(dataDir, claims, '2h'),
    process: (name) => children.get(name),
    output: (name) => outputs.get(name) ?? '',
    kill,
    start: async (name, timeoutMs = 60_000) => {
      if (children.has(name)) throw new Error(`${name} is already running`);
      spawnService(name);
      await waitReady(name, timeoutMs);
    },
    stop: async () => {
      await Promise.all(SERVICE_NAMES.map((name) => kill(name, 'SIGTERM')));
      await created?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  try {
    for (const name of SERVICE_NAMES) {
      await run(process.execPath, [join(DIST, 'apps', name, 'src', 'migrate.js')], {
        env: envFor(name),
      });
    }
    for (const name of SERVICE_NAMES) spawnService(name);
    await Promise.all(SERVICE_NAMES.map((name) => waitReady(name, 90_000)));
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}
