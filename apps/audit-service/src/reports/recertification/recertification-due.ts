/** Users are told of an account's end this many days ahead (access protocol, 7.1). */
export const ACCOUNT_END_NOTICE_DAYS = 30;
/** Access grants are reconfirmed every two months (access protocol, 7.2). */
export const RECERTIFY_EVERY_MONTHS = 2;

/** A user as the latest `gateway.user.set` entry for them describes them. */
export interface UserRecord {
  seq: number;
  userId: string;
  org: string | null;
  /** Last day the account is active (YYYY-MM-DD), when it has an end. */
  accountEndsOn: string | null;
}

/** An access grant as the latest log entry about it describes it. */
export interface GrantRecord {
  seq: number;
  /** When the grant was last confirmed: the time of that entry. */
  at: string;
  grantId: string;
  userId: string;
  purpose: string | null;
  validUntil: string | null;
  approvedBy: string | null;
}

/** One line of the recertification list; flat so that CSV needs no nesting. */
export interface RecertificationRow {
  reason: 'account-ends-soon' | 'grant-recertification-due';
  userId: string;
  org: string | null;
  accountEndsOn: string | null;
  grantId: string | null;
  purpose: string | null;
  validUntil: string | null;
  approvedBy: string | null;
  lastRecertifiedAt: string | null;
  recertificationDueAt: string | null;
  /** The log entry the line is read from. */
  seq: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The instant `months` calendar months later, as the gateway computes a grant's due date. */
export function addMonths(at: string, months: number): string {
  const due = new Date(at);
  due.setUTCMonth(due.getUTCMonth() + months);
  return due.toISOString();
}

/**
 * Who needs a manager's attention (IG Toolkit, non-standard user access protocol): accounts
 * whose last day falls from `today` to ACCOUNT_END_NOTICE_DAYS ahead, and grants still in force
 * at `asOf` that nobody has reconfirmed for RECERTIFY_EVERY_MONTHS. Accounts already ended are
 * left out: the gateway refuses them anyway. Soonest first.
 */
export function recertificationDue(
  users: readonly UserRecord[],
  grants: readonly GrantRecord[],
  asOf: Date,
  today: string,
): RecertificationRow[] {
  const rows: { due: string; row: RecertificationRow }[] = [];
  const userById = new Map(users.map((u) => [u.userId, u]));
  const horizon = addDays(today, ACCOUNT_END_NOTICE_DAYS);
  for (const u of users) {
    const ends = u.accountEndsOn;
    if (ends === null || !DATE.test(ends) || ends < today || ends > horizon) continue;
    rows.push({
      due: ends,
      row: {
        reason: 'account-ends-soon',
        userId: u.userId,
        org: u.org,
        accountEndsOn: ends,
        grantId: null,
        purpose: null,
        validUntil: null,
        approvedBy: null,
        lastRecertifiedAt: null,
        recertificationDueAt: null,
        seq: u.seq,
      },
    });
  }
  for (const g of grants) {
    if (g.validUntil !== null && new Date(g.validUntil).getTime() <= asOf.getTime()) continue;
    const dueAt = addMonths(g.at, RECERTIFY_EVERY_MONTHS);
    if (new Date(dueAt).getTime() > asOf.getTime()) continue;
    const user = userById.get(g.userId);
    rows.push({
      due: dueAt.slice(0, 10),
      row: {
        reason: 'grant-recertification-due',
        userId: g.userId,
        org: user?.org ?? null,
        accountEndsOn: user?.accountEndsOn ?? null,
        grantId: g.grantId,
        purpose: g.purpose,
        validUntil: g.validUntil,
        approvedBy: g.approvedBy,
        lastRecertifiedAt: new Date(g.at).toISOString(),
        recertificationDueAt: dueAt,
        seq: g.seq,
      },
    });
  }
  return rows
    .sort((a, b) =>
      a.due !== b.due ? (a.due < b.due ? -1 : 1) : a.row.userId < b.row.userId ? -1 : 1,
    )
    .map((r) => r.row);
}
