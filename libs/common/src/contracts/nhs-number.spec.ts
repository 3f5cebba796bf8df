import { isValidNhsNumber, nhsNumberFromStem } from './nhs-number';

describe('isValidNhsNumber', () => {
  it.each([
    ['9434765919', true],
    ['9434765870', true],
    ['4010232137', true],
    ['9434765918', false], // wrong check digit
    ['943476591', false], // nine digits
    ['94347659190', false], // eleven digits
    ['94347 6591', false], // not all digits
    ['1111111111', false], // ten equal digits pass mod 11 but are never issued
    ['0000000000', false],
    ['1000000010', false], // remainder gives check 10: never issued
  ])('%s -> %s', (value, expected) => {
    expect(isValidNhsNumber(value)).toBe(expected);
  });

  it('rejects non-strings', () => {
    expect(isValidNhsNumber(9434765919)).toBe(false);
    expect(isValidNhsNumber(undefined)).toBe(false);
  });

  it('builds numbers whose check digit validates', () => {
    expect(nhsNumberFromStem('943476591')).toBe('9434765919');
    expect(nhsNumberFromStem('12345')).toBeNull();
  });
});
