import type {
  DecisionFacts,
  OrganisationFacts,
  PolicyConfig,
  Reason,
  UserFacts,
} from './policy.types';
import { reason } from './reason.messages';
import { instant } from './validity.rule';

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
  const endsExclusive = instant(`${accountEndsOn.slice(0, 10)}T00:00:00.000Z`) + DAY_MS;
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
  const fast = addMonthsFast(isoDate, months);
  if (fast !== null) return fast;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (match === null) return null;
  const monthIndex = Number(match[2]) - 1 + months;
  const year = Number(match[1]) + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(Number(match[3]), lastDay);
  return new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * addMonths without the regular expression and the Date objects (8% of evaluate()), for the
 * common case only: whole months, a day from 1 and a resulting year from 100 to 9999 (Date.UTC
 * reads years below 100 as 19xx, and toISOString writes years past 9999 differently). Null
 * otherwise, and the general path decides.
 */
function addMonthsFast(isoDate: string, months: number): string | null {
  if (!Number.isInteger(months) || isoDate.length < 10) return null;
  if (isoDate[4] !== '-' || isoDate[7] !== '-') return null;
  const digits = (from: number, to: number): number => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = isoDate.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return NaN;
      n = n * 10 + d;
    }
    return n;
  };
  const monthIndex = digits(5, 7) - 1 + months;
  const year = digits(0, 4) + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const dayOfMonth = digits(8, 10);
  if (!(dayOfMonth >= 1 && year >= 100 && year <= 9999)) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lastDay = month === 1 && leap ? 29 : DAYS_IN_MONTH[month];
  const day = Math.min(dayOfMonth, lastDay);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  return `${year < 1000 ? `0${year}` : year}-${two(month + 1)}-${two(day)}`;
}
