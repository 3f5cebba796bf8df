import type {
  DecisionFacts,
  OrganisationFacts,
  PolicyConfig,
  Reason,
  UserFacts,
} from './policy.types';
import { reason } from './reason.messages';

/** Step 1: who may see records at all. A safeguarding override never overrides it. */
export type Eligibility =
  | { eligible: true; user: UserFacts; organisation: OrganisationFacts }
  | { eligible: false; reasons: Reason[] };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Collects every failing reason so the requester learns all they must fix at once. An unknown
 * user has no training date or roles to judge, so only `requester-inactive` is reported for them.
 */
export function checkEligibility(
  facts: Pick<DecisionFacts, 'user' | 'organisation'>,
  at: Date,
  config: PolicyConfig,
): Eligibility {
  const { user, organisation } = facts;
  const inactive: string[] = [];
  if (user === null) inactive.push('The requester is not a registered user of the gateway.');
  else if (user.accountEndsOn !== null && accountEnded(user.accountEndsOn, at)) {
    inactive.push("The requester's account has ended.");
  }
  if (organisation === null) {
    inactive.push('The recipient organisation is not known to the gateway.');
  }

  const reasons: Reason[] = [];
  if (inactive.length > 0) reasons.push(reason('requester-inactive', inactive.join(' ')));
  if (user !== null) {
    const months = config.trainingValidityMonths;
    if (!trainingValid(user.igTrainingCompletedOn, at, months)) {
      reasons.push(
        reason(
          'training-expired',
          `The requester's Information Governance training is missing or more than ${months} months old.`,
        ),
      );
    }
    if (!user.roles.some((role) => config.recordAccessRoles.includes(role))) {
      reasons.push(reason('role-not-permitted'));
    }
  }

  if (user === null || organisation === null || reasons.length > 0) {
    return { eligible: false, reasons };
  }
  return { eligible: true, user, organisation };
}

/**
 * An account ending on day D is usable throughout D (UTC) and ended from D+1 00:00 UTC. Written
 * as "not before the end" so that an unreadable date counts as ended (fail closed).
 */
function accountEnded(accountEndsOn: string, at: Date): boolean {
  const endsExclusive = Date.parse(`${accountEndsOn.slice(0, 10)}T00:00:00.000Z`) + DAY_MS;
  return !(at.getTime() < endsExclusive);
}

/**
 * Training done on date T is valid while `T + months` (calendar months, clamped to the month's
 * last day: 29 Feb + 12 months = 28 Feb) is on or after the UTC date of `at`. So training on
 * 2025-11-24 still counts on 2026-11-24 and no longer on 2026-11-25. Missing or unreadable
 * dates count as expired.
 */
function trainingValid(completedOn: string | null, at: Date, months: number): boolean {
  if (completedOn === null) return false;
  const expiresOn = addMonths(completedOn, months);
  return expiresOn !== null && expiresOn >= at.toISOString().slice(0, 10);
}

function addMonths(isoDate: string, months: number): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (match === null) return null;
  const monthIndex = Number(match[2]) - 1 + months;
  const year = Number(match[1]) + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(Number(match[3]), lastDay);
  return new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
}
