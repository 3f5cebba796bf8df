import { DEFAULT_POLICY_CONFIG } from './evaluate';
import { checkEligibility } from './eligibility.rule';

/** The rule as first written (regular expression and Date objects), to compare against. */
function trainingValidReference(completedOn: string, at: Date, months: number): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(completedOn);
  if (match === null) return false;
  const monthIndex = Number(match[2]) - 1 + months;
  const year = Number(match[1]) + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(Number(match[3]), lastDay);
  const expiresOn = new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
  return expiresOn >= at.toISOString().slice(0, 10);
}

const user = (igTrainingCompletedOn: string) => ({
  userId: 'u-1',
  org: 'X26',
  roles: ['social_worker' as const],
  teams: [],
  igTrainingCompletedOn,
  accountEndsOn: null,
});
const organisation = { odsCode: 'X26', kind: 'local-authority' as const, country: 'GB' };

function trainingValid(completedOn: string, at: Date, months: number): boolean {
  const result = checkEligibility({ user: user(completedOn), organisation }, at, {
    ...DEFAULT_POLICY_CONFIG,
    trainingValidityMonths: months,
  });
  return result.eligible || !result.reasons.some((r) => r.code === 'training-expired');
}

describe('IG training validity', () => {
  it('agrees with the rule as first written, around month ends and leap days', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const completed = new Date(Date.UTC(1890 + Math.floor(random() * 230), 0, 1));
      completed.setUTCDate(1 + Math.floor(random() * 366));
      const completedOn = completed.toISOString().slice(0, 10);
      const months = [0, 1, 11, 12, 13, 24, 25, -1][Math.floor(random() * 8)];
      const at = new Date(completed.getTime() + (random() * 800 - 30) * 86_400_000);
      expect([completedOn, months, at, trainingValid(completedOn, at, months)]).toEqual([
        completedOn,
        months,
        at,
        trainingValidReference(completedOn, at, months),
      ]);
    }
  });

  it('agrees with it on unusual dates', () => {
    const at = new Date('2026-11-24T10:00:00.000Z');
    for (const completedOn of [
      '2025-11-24',
      '2025-11-25',
      '2025-11-24T23:59:59Z',
      '2025-02-31',
      '2025-13-01',
      '2025-00-10',
      '2025-11-00',
      '0050-11-24',
      '0099-12-31',
      '0100-01-01',
      '9999-12-31',
      '2025-1-24',
      '2025/11/24',
      '',
    ]) {
      for (const months of [12, 0, 1.5, -13]) {
        expect([completedOn, months, trainingValid(completedOn, at, months)]).toEqual([
          completedOn,
          months,
          trainingValidReference(completedOn, at, months),
        ]);
      }
    }
  });
});
