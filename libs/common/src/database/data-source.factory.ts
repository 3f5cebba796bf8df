import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';

export interface ServiceDataSourceOptions {
  url: string;
  schema: string;
  /** Migration classes of the service, in order. */
  migrations: MixedList<string | (new () => unknown)>;
  entities?: MixedList<string | (new () => unknown)>;
  poolSize?: number;
  applicationName?: string;
  /** Role every pooled session switches to at connect time (`SET ROLE`), if any. */
  sessionRole?: string | null;
}

/** A TypeORM data source for one service's schema; never synchronises, always migrates. */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  const config: DataSourceOptions = {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations as DataSourceOptions['migrations'],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? options.schema,
    extra: {
      connectionTimeoutMillis: 5000,
      ...(options.sessionRole ? { options: `-c role=${options.sessionRole}` } : {}),
    },
  };
  return new DataSource(config);
}

/**
 * Runs pending migrations. The schema is created first because TypeORM keeps its migrations
 * table inside it. Concurrent runners (several replicas starting) serialise on an advisory lock.
 */
export async function runMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const initialisedHere = !dataSource.isInitialized;
  if (initialisedHere) await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query(`SELECT pg_advisory_lock(hashtext('migrations:' || $1))`, [schema]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    await runner.query(`SELECT pg_advisory_unlock(hashtext('migrations:' || $1))`, [schema]);
    return applied.map((m) => m.name);
  } finally {
    await runner.release();
    if (initialisedHere) await dataSource.destroy();
  }
}
