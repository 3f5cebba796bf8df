import type { LogEntry } from '../ingest/entry-from-event';

/** An entry as the API shows it (API.md `GET /v1/audit/entries`). */
export interface EntryView {
  seq: number;
  at: string;
  actor: LogEntry['actor'];
  subjectId: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  categories: string[];
  legalBasis: LogEntry['legalBasis'];
  correlationId: string;
  sourceEventId: string;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

export interface EntryRow {
  entry: LogEntry;
  hash: Buffer;
  prev_hash: Buffer;
}

export function toEntryView(row: EntryRow): EntryView {
  const e = row.entry;
  return {
    seq: Number(e.seq),
    at: e.at,
    actor: e.actor,
    subjectId: e.subjectId,
    action: e.action,
    outcome: e.outcome,
    purpose: e.purpose,
    categories: e.categories,
    legalBasis: e.legalBasis,
    correlationId: e.correlationId,
    sourceEventId: e.sourceEventId,
    details: e.details,
    hash: row.hash.toString('hex'),
    prevHash: row.prev_hash.toString('hex'),
  };
}

/** RFC 4180 CSV of flat rows; nested values as JSON, formulas defused for spreadsheets. */
export function toCsv(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (value: unknown): string => {
    let text =
      value === null || value === undefined
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return (
    [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') +
    '\r\n'
  );
}
