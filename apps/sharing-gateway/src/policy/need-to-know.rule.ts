import type { DecisionFacts, DecisionRequest, UserFacts } from './policy.types';
import { inForce, notYetEnded } from './validity.rule';

/**
 * Caldicott principle 4 (access on a strict need-to-know basis): the requester, or one of their
 * teams, has a current care relationship with this person, or holds an unexpired access grant
 * for exactly this purpose. Decided once per request: it does not depend on the data category.
 */
export function hasNeedToKnow(
  request: Pick<DecisionRequest, 'subjectId' | 'purposeOfUse'>,
  user: UserFacts,
  facts: Pick<DecisionFacts, 'relationships' | 'accessGrants'>,
  at: Date,
): boolean {
  const relationship = facts.relationships.some(
    (r) =>
      r.subjectId === request.subjectId &&
      ((r.userId !== null && r.userId === user.userId) ||
        (r.teamId !== null && user.teams.includes(r.teamId))) &&
      inForce(at, r.validFrom, r.validUntil),
  );
  const grant = facts.accessGrants.some(
    (g) =>
      g.userId === user.userId &&
      g.purpose === request.purposeOfUse &&
      notYetEnded(at, g.validUntil),
  );
  return relationship || grant;
}
