import type { EntityManager } from 'typeorm';

// One transaction-scoped advisory lock per person (two-key form, its own key space): taken by
// whatever creates, defers or re-queues a person's notices, and tried by the sender, so a
// deferral and a notice about the same person can never cross (a notice sent while the
// officer was deferring its sibling, or created just too early to inherit the deferral).
const NAMESPACE = 'audit.notices';

/** Waits for the person's lock. Callers holding several take them in sorted order. */
export async function lockSubject(tx: EntityManager, subjectId: string): Promise<void> {
  await lockSubjects(tx, [subjectId]);
}

/**
 * Waits for several people's locks, in one statement: taken one by one in the order given, which
 * must be sorted (one statement each cost a round trip per person in a batch of events).
 */
export async function lockSubjects(tx: EntityManager, sortedSubjectIds: string[]): Promise<void> {
  if (sortedSubjectIds.length === 0) return;
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(hashtext($1), hashtext(s.id)))
       FROM unnest($2::text[]) AS s(id)`,
    [NAMESPACE, sortedSubjectIds],
  );
}

/** Takes the person's lock if it is free; never waits (the sender holds a row lock). */
export async function tryLockSubject(tx: EntityManager, subjectId: string): Promise<boolean> {
  const [{ locked }]: { locked: boolean }[] = await tx.query(
    `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked`,
    [NAMESPACE, subjectId],
  );
  return locked;
}
