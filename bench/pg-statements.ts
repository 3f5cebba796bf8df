import type { Client } from 'pg';

/** Whether PostgreSQL was started with pg_stat_statements (PG_STAT_STATEMENTS=1). */
const enabled = (): boolean => process.env.PG_STAT_STATEMENTS === '1';

/** Starts counting afresh: the next `printTopStatements` covers only what ran after this. */
export async function resetStatements(db: Client): Promise<void> {
  if (!enabled()) return;
  await db.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
  await db.query(`SELECT pg_stat_statements_reset()`);
}

/**
 * With PG_STAT_STATEMENTS=1, prints the statements PostgreSQL spent the most execution time on
 * since `resetStatements`, per call and per unit of work (`units`: entries, decisions).
 */
export async function printTopStatements(
  db: Client,
  units: number,
  unitName: string,
  limit = 12,
): Promise<void> {
  if (!enabled()) return;
  const { rows } = await db.query<{
    calls: string;
    total_ms: number;
    mean_ms: number;
    plan_ms: number;
    plans: string;
    rows: string;
    wal_bytes: string;
    query: string;
  }>(
    `SELECT calls::text, total_exec_time AS total_ms, mean_exec_time AS mean_ms,
            total_plan_time AS plan_ms, plans::text, rows::text,
            wal_bytes::text, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements
      ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`,
    [limit],
  );
  process.stdout.write(`pg_stat_statements, top ${limit} by execution time, per ${unitName}:\n`);
  for (const r of rows) {
    const perUnit = (r.total_ms * 1000) / units;
    process.stdout.write(
      `  ${perUnit.toFixed(1).padStart(7)} µs/${unitName}  ${Number(r.calls).toLocaleString('en-GB').padStart(9)} calls ` +
        `${r.mean_ms.toFixed(3).padStart(8)} ms/call  WAL ${(Number(r.wal_bytes) / units).toFixed(0).padStart(6)} B/${unitName}  ` +
        `planned ${Number(r.plans).toLocaleString('en-GB')}x, ${((r.plan_ms * 1000) / units).toFixed(1)} µs/${unitName}  ` +
        `${r.query.slice(0, 120)}\n`,
    );
  }
}
