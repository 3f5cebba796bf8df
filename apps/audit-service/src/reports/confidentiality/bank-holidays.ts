/**
 * Bank holidays in England and Wales, 2025-2028, as local calendar dates.
 *
 * Source: GOV.UK "UK bank holidays", https://www.gov.uk/bank-holidays (the `england-and-wales`
 * division of https://www.gov.uk/bank-holidays.json). 2028 had not been published there when
 * this list was written; its dates follow the standing rules (Banking and Financial Dealings
 * Act 1971, Schedule 1, and the usual royal proclamations for the May and substitute days).
 * Check it against GOV.UK when 2028 is published, and add any one-off holiday proclaimed later.
 */
export const ENGLAND_AND_WALES_BANK_HOLIDAYS: ReadonlySet<string> = new Set([
  // 2025
  '2025-01-01', // New Year's Day
  '2025-04-18', // Good Friday
  '2025-04-21', // Easter Monday
  '2025-05-05', // Early May bank holiday
  '2025-05-26', // Spring bank holiday
  '2025-08-25', // Summer bank holiday
  '2025-12-25', // Christmas Day
  '2025-12-26', // Boxing Day
  // 2026
  '2026-01-01', // New Year's Day
  '2026-04-03', // Good Friday
  '2026-04-06', // Easter Monday
  '2026-05-04', // Early May bank holiday
  '2026-05-25', // Spring bank holiday
  '2026-08-31', // Summer bank holiday
  '2026-12-25', // Christmas Day
  '2026-12-28', // Boxing Day (substitute day: the 26th is a Saturday)
  // 2027
  '2027-01-01', // New Year's Day
  '2027-03-26', // Good Friday
  '2027-03-29', // Easter Monday
  '2027-05-03', // Early May bank holiday
  '2027-05-31', // Spring bank holiday
  '2027-08-30', // Summer bank holiday
  '2027-12-27', // Christmas Day (substitute day: the 25th is a Saturday)
  '2027-12-28', // Boxing Day (substitute day: the 26th is a Sunday)
  // 2028
  '2028-01-03', // New Year's Day (substitute day: the 1st is a Saturday)
  '2028-04-14', // Good Friday
  '2028-04-17', // Easter Monday
  '2028-05-01', // Early May bank holiday
  '2028-05-29', // Spring bank holiday
  '2028-08-28', // Summer bank holiday
  '2028-12-25', // Christmas Day
  '2028-12-26', // Boxing Day
]);

/** Whether a local date (YYYY-MM-DD) is a bank holiday in England and Wales. */
export function isBankHoliday(localDate: string): boolean {
  return ENGLAND_AND_WALES_BANK_HOLIDAYS.has(localDate);
}
