import type { EntityManager } from 'typeorm';

/**
 * Runs an UPDATE ... RETURNING and gives back its rows. TypeORM's `query` answers UPDATE (and
 * DELETE) with `[rows, affected]` rather than the rows, unlike SELECT and INSERT.
 */
export async function updateReturning<T>(
  tx: Pick<EntityManager, 'query'>,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const [rows] = (await tx.query(sql, params)) as [T[], number];
  return rows;
}
