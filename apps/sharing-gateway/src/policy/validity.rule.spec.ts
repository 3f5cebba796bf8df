import { instant } from './validity.rule';

/** Both NaN, or the same number. */
const same = (text: string) => expect([text, instant(text)]).toEqual([text, Date.parse(text)]);

describe('instant', () => {
  it('reads toISOString() output exactly as Date.parse does', () => {
    let seed = 20261124;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let i = 0; i < 20_000; i++) {
      same(new Date(Date.UTC(2026, 10, 24) + random() * 200 * 365 * 86_400_000).toISOString());
    }
  });

  it('leaves anything unusual to Date.parse', () => {
    for (const text of [
      '2026-04-31T00:00:00.000Z',
      '2026-02-29T10:00:00.000Z',
      '2024-02-29T10:00:00.000Z',
      '2026-02-30T10:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-01T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '0050-01-01T00:00:00.000Z',
      '0999-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.00aZ',
      '2026-01-01T00:00:00.0 0Z',
      '2026-01-0 T00:00:00.000Z',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01T00:00:00.000+',
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00.000+01:00',
      '2026-01-01',
      '+012026-01-01T00:00:00.000Z',
      '',
      'not a date',
    ]) {
      same(text);
    }
  });
});
