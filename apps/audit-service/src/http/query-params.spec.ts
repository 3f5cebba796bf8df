import { DomainError } from '#common';
import { readPeriod } from './query-params';

const problemsOf = (query: Record<string, unknown>) => {
  try {
    readPeriod(query);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).details;
  }
  throw new Error('expected a validation error');
};

describe('report period', () => {
  it('reads dates as midnight UTC and date-times with their zone', () => {
    expect(readPeriod({ from: '2026-11-01', to: '2026-11-02T09:30:00+01:00' })).toEqual({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T08:30:00Z'),
    });
    expect(readPeriod({})).toEqual({ from: null, to: null });
    expect(readPeriod({ from: '2026-11-01T00:00Z', to: '2026-11-01T00:00Z' }).from).toEqual(
      new Date('2026-11-01T00:00:00Z'),
    );
  });

  it.each([
    ['yesterday'],
    ['2026-02-30'],
    ['2026-13-01'],
    ['2026-11-01T09:00:00'],
    ['2026-11-01 09:00:00Z'],
    ['1 November 2026'],
    [''],
  ])('refuses %j as from, naming the field', (from) => {
    expect(problemsOf({ from })).toEqual([
      { field: 'from', problem: expect.stringContaining('from must be an ISO 8601') },
    ]);
  });

  it('refuses a repeated parameter, a period that ends before it starts, and unknown names', () => {
    expect(problemsOf({ from: ['2026-11-01', '2026-11-02'] })[0].field).toBe('from');
    expect(problemsOf({ from: '2026-11-02', to: '2026-11-01' })).toEqual([
      { field: 'to', problem: 'to must not be before from' },
    ]);
    expect(problemsOf({ form: '2026-11-01', limit: '5' }).map((p) => p.field)).toEqual([
      'form',
      'limit',
    ]);
  });
});
