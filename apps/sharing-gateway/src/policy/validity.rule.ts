/**
 * A validity period includes its start and excludes its end: something valid until T no longer
 * counts at T. Every period of the policy (agreements, relationships, consents) reads this way,
 * so a share is never allowed at the instant its basis ends.
 */
export function inForce(at: Date, validFrom: string, validUntil: string | null): boolean {
  const t = at.getTime();
  return Date.parse(validFrom) <= t && (validUntil === null || t < Date.parse(validUntil));
}

/** Whether an end instant is still in the future at `at` (ends exclusive, as `inForce`). */
export function notYetEnded(at: Date, validUntil: string): boolean {
  return at.getTime() < Date.parse(validUntil);
}
