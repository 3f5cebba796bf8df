/**
 * Whether a string is a valid NHS number: exactly 10 digits whose last digit is the
 * modulus 11 check digit of the first nine (weights 10..2). A remainder giving 10 means
 * the number was never issued. Ten equal digits pass the arithmetic but are not issued.
 */
export function isValidNhsNumber(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{10}$/.test(value)) return false;
  if (/^(\d)\1{9}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}

/** Builds a valid NHS number from a nine-digit stem, or null when no check digit exists. */
export function nhsNumberFromStem(stem: string): string | null {
  if (!/^\d{9}$/.test(stem)) return null;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(stem[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return null;
  const candidate = stem + String(check === 11 ? 0 : check);
  return isValidNhsNumber(candidate) ? candidate : null;
}

/** `count` distinct valid NHS numbers from the nine-digit stem `start` upwards (test data). */
export function nhsNumbers(count: number, start = 900000000): string[] {
  const numbers: string[] = [];
  for (let stem = start; numbers.length < count && stem <= 999999999; stem++) {
    const n = nhsNumberFromStem(String(stem));
    if (n) numbers.push(n);
  }
  return numbers;
}
