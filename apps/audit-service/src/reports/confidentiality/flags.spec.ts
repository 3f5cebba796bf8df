import {
  addDays,
  confidentialityFlags,
  isOutOfHours,
  localTime,
  parseWorkingDays,
  parseWorkingHours,
  unusualVolumeDays,
  volumeKey,
  type AccessFacts,
  type DailyCount,
  type FlagContext,
  type WorkingTime,
} from './flags';

const OFFICE: WorkingTime = {
  timeZone: 'Europe/London',
  startMinute: 8 * 60,
  endMinute: 18 * 60,
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
};
const RULE = { multiple: 3, floor: 20, historyDays: 30 };

describe('out-of-hours (08:00-18:00 Europe/London, Monday-Friday, bank holidays off)', () => {
  it.each([
    // [instant (UTC), out of hours?, why]
    ['2026-11-24T08:00:00Z', false, 'Tuesday 08:00 GMT: the first minute of the day'],
    ['2026-11-24T07:59:59Z', true, 'Tuesday 07:59 GMT: before the start'],
    ['2026-11-24T17:59:59Z', false, 'Tuesday 17:59 GMT: the last minute of the day'],
    ['2026-11-24T18:00:00Z', true, 'Tuesday 18:00 GMT: the end is not working time'],
    ['2026-11-28T12:00:00Z', true, 'Saturday midday'],
    ['2026-11-29T12:00:00Z', true, 'Sunday midday'],
    ['2026-06-05T22:30:00Z', true, 'Friday 23:30 BST'],
    ['2026-06-05T23:30:00Z', true, 'Friday 23:30 UTC is Saturday 00:30 BST'],
    ['2026-06-07T23:30:00Z', true, 'Sunday 23:30 UTC is Monday 00:30 BST, before the start'],
  ])('%s → %s (%s)', (at, out) => {
    expect(isOutOfHours(new Date(at), OFFICE)).toBe(out);
  });

  describe('across the change to British Summer Time (29 March 2026)', () => {
    it.each([
      ['2026-03-27T07:30:00Z', true, 'Friday 07:30 GMT'],
      ['2026-03-30T07:30:00Z', false, 'Monday 08:30 BST'],
      ['2026-03-27T17:30:00Z', false, 'Friday 17:30 GMT'],
      ['2026-03-30T17:30:00Z', true, 'Monday 18:30 BST'],
    ])('%s → %s (%s)', (at, out) => {
      expect(isOutOfHours(new Date(at), OFFICE)).toBe(out);
    });
  });

  describe('across the change back to Greenwich Mean Time (25 October 2026)', () => {
    it.each([
      ['2026-10-23T07:30:00Z', false, 'Friday 08:30 BST'],
      ['2026-10-26T07:30:00Z', true, 'Monday 07:30 GMT'],
      ['2026-10-23T17:30:00Z', true, 'Friday 18:30 BST'],
      ['2026-10-26T17:30:00Z', false, 'Monday 17:30 GMT'],
    ])('%s → %s (%s)', (at, out) => {
      expect(isOutOfHours(new Date(at), OFFICE)).toBe(out);
    });
  });

  describe('bank holidays in England and Wales', () => {
    it.each([
      ['2026-05-04T10:00:00Z', true, 'Early May bank holiday, a Monday, 11:00 BST'],
      ['2026-05-05T10:00:00Z', false, 'the Tuesday after'],
      ['2026-12-28T12:00:00Z', true, 'Boxing Day substitute Monday'],
      ['2026-12-24T12:00:00Z', false, 'Christmas Eve is a working day'],
      ['2026-12-31T23:30:00Z', true, 'New Year’s Day 2027 by local date (GMT)'],
      ['2027-12-27T09:00:00Z', true, 'Christmas substitute Monday 2027'],
      ['2028-01-03T09:00:00Z', true, 'New Year substitute Monday 2028'],
      ['2025-08-25T09:00:00Z', true, 'Summer bank holiday 2025'],
    ])('%s → %s (%s)', (at, out) => {
      expect(isOutOfHours(new Date(at), OFFICE)).toBe(out);
    });

    it('a bank holiday is judged by its local date: 23:30 UTC on the eve of a BST holiday', () => {
      // Sunday 24 May 2026 23:30 UTC is 00:30 on Spring bank holiday Monday in London.
      expect(localTime(new Date('2026-05-24T23:30:00Z'), 'Europe/London')).toEqual({
        date: '2026-05-25',
        weekday: 'mon',
        minute: 30,
      });
      // Even a service working every day and all day is off on a bank holiday.
      const always: WorkingTime = {
        ...OFFICE,
        startMinute: 0,
        endMinute: 24 * 60,
        days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      };
      expect(isOutOfHours(new Date('2026-05-24T23:30:00Z'), always)).toBe(true);
      expect(isOutOfHours(new Date('2026-05-24T22:30:00Z'), always)).toBe(false);
    });
  });

  it('uses the configured days and hours', () => {
    const sevenDay: WorkingTime = {
      timeZone: 'Europe/London',
      startMinute: 7 * 60,
      endMinute: 22 * 60,
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    };
    expect(isOutOfHours(new Date('2026-11-28T21:00:00Z'), sevenDay)).toBe(false);
    expect(isOutOfHours(new Date('2026-11-28T22:00:00Z'), sevenDay)).toBe(true);
  });
});

describe('working time configuration', () => {
  it('parses hours and refuses empty or reversed windows', () => {
    expect(parseWorkingHours('08:00-18:00')).toEqual({ startMinute: 480, endMinute: 1080 });
    expect(parseWorkingHours('00:00-24:00')).toEqual({ startMinute: 0, endMinute: 1440 });
    expect(parseWorkingHours('18:00-08:00')).toBeNull();
    expect(parseWorkingHours('09:00-09:00')).toBeNull();
    expect(parseWorkingHours('8:00-18:00')).toBeNull();
    expect(parseWorkingHours('08:00-24:30')).toBeNull();
  });

  it('parses weekdays in any case, once each, and refuses others', () => {
    expect(parseWorkingDays('Mon, tue,wed,mon')).toEqual(['mon', 'tue', 'wed']);
    expect(parseWorkingDays('mon,funday')).toBeNull();
  });
});

describe('unusual volume (3× the user’s own 30-day daily average, and more than 20)', () => {
  const history = (userId: string, perDay: number, lastDay: string): DailyCount[] =>
    Array.from({ length: 30 }, (_, i) => ({
      userId,
      day: addDays(lastDay, -i),
      count: perDay,
    }));

  it('flags a day above both the multiple of the norm and the floor', () => {
    // Norm 10 a day; 31 is more than 30 (3×10) and more than 20.
    const counts = [
      ...history('u1', 10, '2026-11-23'),
      { userId: 'u1', day: '2026-11-24', count: 31 },
    ];
    expect(unusualVolumeDays(counts, RULE)).toEqual(new Set([volumeKey('u1', '2026-11-24')]));
  });

  it('does not flag exactly the multiple of the norm', () => {
    const counts = [
      ...history('u1', 10, '2026-11-23'),
      { userId: 'u1', day: '2026-11-24', count: 30 },
    ];
    expect(unusualVolumeDays(counts, RULE).size).toBe(0);
  });

  it('does not flag a quiet user’s busy day that stays at or under the floor', () => {
    // Norm 1 a day: 20 is 20× the norm but not more than the floor of 20.
    const counts = [
      ...history('u1', 1, '2026-11-23'),
      { userId: 'u1', day: '2026-11-24', count: 20 },
    ];
    expect(unusualVolumeDays(counts, RULE).size).toBe(0);
    const busier = [
      ...history('u1', 1, '2026-11-23'),
      { userId: 'u1', day: '2026-11-24', count: 21 },
    ];
    expect(unusualVolumeDays(busier, RULE)).toEqual(new Set([volumeKey('u1', '2026-11-24')]));
  });

  it('counts days without access as zero in the average', () => {
    // 150 accesses on one day 10 days earlier: an average of 5, so 16 is not unusual but 21 is.
    const counts: DailyCount[] = [
      { userId: 'u1', day: '2026-11-14', count: 150 },
      { userId: 'u1', day: '2026-11-24', count: 21 },
    ];
    expect(unusualVolumeDays(counts, RULE).has(volumeKey('u1', '2026-11-24'))).toBe(true);
    const withMore: DailyCount[] = [
      { userId: 'u1', day: '2026-11-14', count: 300 },
      { userId: 'u1', day: '2026-11-24', count: 21 },
    ];
    // 300 / 30 = 10 a day: 21 is not above 30.
    expect(unusualVolumeDays(withMore, RULE).has(volumeKey('u1', '2026-11-24'))).toBe(false);
  });

  it('looks back exactly the history window: the 31st day before does not count', () => {
    const counts: DailyCount[] = [
      { userId: 'u1', day: addDays('2026-11-24', -31), count: 3000 },
      { userId: 'u1', day: '2026-11-24', count: 21 },
    ];
    expect(unusualVolumeDays(counts, RULE).has(volumeKey('u1', '2026-11-24'))).toBe(true);
    const inside: DailyCount[] = [
      { userId: 'u1', day: addDays('2026-11-24', -30), count: 3000 },
      { userId: 'u1', day: '2026-11-24', count: 21 },
    ];
    expect(unusualVolumeDays(inside, RULE).has(volumeKey('u1', '2026-11-24'))).toBe(false);
  });

  it('judges each user against their own norm, not anyone else’s', () => {
    const counts = [
      ...history('busy', 40, '2026-11-23'),
      { userId: 'busy', day: '2026-11-24', count: 45 },
      { userId: 'quiet', day: '2026-11-24', count: 45 },
    ];
    const unusual = unusualVolumeDays(counts, RULE);
    expect(unusual.has(volumeKey('quiet', '2026-11-24'))).toBe(true);
    expect(unusual.has(volumeKey('busy', '2026-11-24'))).toBe(false);
  });

  it('honours a configured multiple and floor', () => {
    const counts = [
      ...history('u1', 2, '2026-11-23'),
      { userId: 'u1', day: '2026-11-24', count: 6 },
    ];
    expect(unusualVolumeDays(counts, { multiple: 2, floor: 5, historyDays: 30 }).size).toBe(1);
    expect(unusualVolumeDays(counts, { multiple: 3, floor: 5, historyDays: 30 }).size).toBe(0);
  });

  it('steps calendar days across month, year and clock changes', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
  });
});

describe('the flags of one access', () => {
  const context: FlagContext = { workingTime: OFFICE, unusualVolume: new Set() };
  // Tuesday 24 November 2026, 10:00 GMT: working hours.
  const access = (over: Partial<AccessFacts> = {}): AccessFacts => ({
    at: '2026-11-24T10:00:00.000Z',
    actorId: 'sw-1',
    outcome: 'permit',
    needToKnow: 'relationship',
    subjectIsColleague: false,
    sharesSurname: false,
    ...over,
  });

  it('gives none to an access in hours with a relationship', () => {
    expect(confidentialityFlags(access(), context)).toEqual([]);
    expect(confidentialityFlags(access({ needToKnow: 'access-grant' }), context)).toEqual([]);
  });

  it('does not mark a safeguarding override as no-relationship (it has its own review)', () => {
    expect(confidentialityFlags(access({ needToKnow: 'break-glass' }), context)).toEqual([]);
  });

  it('marks an attempt without need-to-know as both no-relationship and denied', () => {
    expect(confidentialityFlags(access({ needToKnow: 'none', outcome: 'deny' }), context)).toEqual([
      'no-relationship',
      'denied-attempt',
    ]);
    expect(confidentialityFlags(access({ needToKnow: 'none' }), context)).toEqual([
      'no-relationship',
    ]);
  });

  it('marks a denial with a relationship as a denied attempt only; a partial is not denied', () => {
    expect(confidentialityFlags(access({ outcome: 'deny' }), context)).toEqual(['denied-attempt']);
    expect(confidentialityFlags(access({ outcome: 'partial' }), context)).toEqual([]);
  });

  it('leaves entries that predate needToKnow unflagged on that count', () => {
    expect(confidentialityFlags(access({ needToKnow: null }), context)).toEqual([]);
  });

  it('marks colleague and same-surname records, and unusual volume by the local day', () => {
    // 00:30 BST on 1 June 2026 (a Monday) is still 31 May in UTC.
    const late = access({
      at: '2026-05-31T23:30:00.000Z',
      subjectIsColleague: true,
      sharesSurname: true,
    });
    const volume: FlagContext = {
      workingTime: OFFICE,
      unusualVolume: new Set([volumeKey('sw-1', '2026-06-01')]),
    };
    expect(confidentialityFlags(late, volume)).toEqual([
      'out-of-hours',
      'unusual-volume',
      'colleague-record',
      'same-surname',
    ]);
    expect(confidentialityFlags({ ...late, actorId: 'sw-2' }, volume)).not.toContain(
      'unusual-volume',
    );
  });

  it('lists every flag in the documented order', () => {
    const all = confidentialityFlags(
      access({
        at: '2026-11-28T12:00:00.000Z',
        outcome: 'deny',
        needToKnow: 'none',
        subjectIsColleague: true,
        sharesSurname: true,
      }),
      { workingTime: OFFICE, unusualVolume: new Set([volumeKey('sw-1', '2026-11-28')]) },
    );
    expect(all).toEqual([
      'no-relationship',
      'out-of-hours',
      'unusual-volume',
      'colleague-record',
      'same-surname',
      'denied-attempt',
    ]);
  });
});
