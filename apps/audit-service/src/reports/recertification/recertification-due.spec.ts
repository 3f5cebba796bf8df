import {
  addMonths,
  recertificationDue,
  type GrantRecord,
  type UserRecord,
} from './recertification-due';

const AS_OF = new Date('2026-11-24T12:00:00Z');
const TODAY = '2026-11-24';
const user = (userId: string, accountEndsOn: string | null, seq = 1): UserRecord => ({
  seq,
  userId,
  org: 'X26',
  accountEndsOn,
});
const grant = (over: Partial<GrantRecord>): GrantRecord => ({
  seq: 10,
  at: '2026-09-01T09:00:00.000Z',
  grantId: 'g1',
  userId: 'hsg-1',
  purpose: 'direct-care',
  validUntil: '2027-06-30T00:00:00.000Z',
  approvedBy: 'mgr-1',
  ...over,
});

describe('recertification', () => {
  it('lists accounts ending from today to 30 days ahead, and no others', () => {
    const rows = recertificationDue(
      [
        user('today', '2026-11-24'),
        user('in-30', '2026-12-24'),
        user('in-31', '2026-12-25'),
        user('ended', '2026-11-23'),
        user('open-ended', null),
      ],
      [],
      AS_OF,
      TODAY,
    );
    expect(rows.map((r) => [r.reason, r.userId, r.accountEndsOn])).toEqual([
      ['account-ends-soon', 'today', '2026-11-24'],
      ['account-ends-soon', 'in-30', '2026-12-24'],
    ]);
  });

  it('lists a grant in force not reconfirmed for two months, with its due date', () => {
    const rows = recertificationDue([user('hsg-1', null)], [grant({})], AS_OF, TODAY);
    expect(rows).toEqual([
      {
        reason: 'grant-recertification-due',
        userId: 'hsg-1',
        org: 'X26',
        accountEndsOn: null,
        grantId: 'g1',
        purpose: 'direct-care',
        validUntil: '2027-06-30T00:00:00.000Z',
        approvedBy: 'mgr-1',
        lastRecertifiedAt: '2026-09-01T09:00:00.000Z',
        recertificationDueAt: '2026-11-01T09:00:00.000Z',
        seq: 10,
      },
    ]);
  });

  it('does not list a grant confirmed less than two months ago, or one that has ended', () => {
    expect(
      recertificationDue([], [grant({ at: '2026-09-24T12:00:01.000Z' })], AS_OF, TODAY),
    ).toEqual([]);
    expect(
      recertificationDue([], [grant({ at: '2026-09-24T12:00:00.000Z' })], AS_OF, TODAY),
    ).toHaveLength(1);
    expect(
      recertificationDue([], [grant({ validUntil: '2026-11-24T12:00:00.000Z' })], AS_OF, TODAY),
    ).toEqual([]);
  });

  it('puts the soonest first', () => {
    const rows = recertificationDue(
      [user('late', '2026-12-20'), user('soon', '2026-11-26')],
      [grant({ at: '2026-08-01T00:00:00.000Z' })],
      AS_OF,
      TODAY,
    );
    expect(rows.map((r) => r.userId)).toEqual(['hsg-1', 'soon', 'late']);
  });

  it('counts months as the gateway does', () => {
    expect(addMonths('2026-09-01T09:00:00.000Z', 2)).toBe('2026-11-01T09:00:00.000Z');
    expect(addMonths('2026-12-15T00:00:00.000Z', 2)).toBe('2027-02-15T00:00:00.000Z');
  });
});
