import { DomainError, type FieldProblem } from '#common';

/** A report's period: from (inclusive) to (exclusive); either end open when not given. */
export interface ReportPeriod {
  from: Date | null;
  to: Date | null;
}

// ISO 8601: a date, or a date-time with seconds optional and a zone (Z or an offset) required,
// so that no one's report depends on the server's own time zone.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d))?$/;

/** The 400 for bad input to a report or register, naming each field. */
export function invalidInput(problems: FieldProblem[]): DomainError {
  return new DomainError(
    'VALIDATION_FAILED',
    `The request is invalid: ${[...new Set(problems.map((p) => p.field))].join(', ')}.`,
    'invalid',
    problems,
  );
}

/** Problems for query parameters the route does not know (a misspelt `form` is not ignored). */
export function unknownParameters(
  query: Record<string, unknown>,
  known: readonly string[],
): FieldProblem[] {
  return Object.keys(query)
    .filter((key) => !known.includes(key))
    .map((key) => ({ field: key, problem: `${key} is not a known parameter` }));
}

/**
 * An ISO 8601 instant, or a date meaning its midnight UTC (times in this API are UTC); a
 * real calendar date (no 30 February). Undefined when absent; a problem when malformed.
 */
export function instantParameter(
  field: string,
  value: unknown,
  problems: FieldProblem[],
): Date | undefined {
  if (value === undefined) return undefined;
  const problem = `${field} must be an ISO 8601 date (2026-11-01) or date-time with a zone (2026-11-01T09:00:00Z)`;
  const m = typeof value === 'string' ? ISO_8601.exec(value) : null;
  if (!m) {
    problems.push({ field, problem });
    return undefined;
  }
  const [, y, mo, d] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const at = new Date(value as string);
  if (
    day.getUTCFullYear() !== Number(y) ||
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number.isNaN(at.getTime())
  ) {
    problems.push({ field, problem });
    return undefined;
  }
  return at;
}

/** Reads `from` and `to` (and refuses unknown parameters); to must not be before from. */
export function readPeriod(
  query: Record<string, unknown>,
  alsoKnown: readonly string[] = [],
): ReportPeriod {
  const problems = unknownParameters(query, ['from', 'to', ...alsoKnown]);
  const from = instantParameter('from', query.from, problems);
  const to = instantParameter('to', query.to, problems);
  if (from && to && to.getTime() < from.getTime()) {
    problems.push({ field: 'to', problem: 'to must not be before from' });
  }
  if (problems.length > 0) throw invalidInput(problems);
  return { from: from ?? null, to: to ?? null };
}

/** A whole number (a seq, a tree size, a page size); undefined when absent. */
export function wholeNumberParameter(
  field: string,
  value: unknown,
  problems: FieldProblem[],
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n)) {
    problems.push({ field, problem: `${field} must be a whole number` });
    return undefined;
  }
  return n;
}
