import { isBankHoliday } from './bank-holidays';

/** Why an access is in the confidentiality audit (API.md, in this order on every row). */
export const CONFIDENTIALITY_FLAGS = [
  'no-relationship',
  'out-of-hours',
  'unusual-volume',
  'colleague-record',
  'same-surname',
  'denied-attempt',
] as const;
export type ConfidentialityFlag = (typeof CONFIDENTIALITY_FLAGS)[number];

/** Log actions that are someone asking to see a person's record (entry-from-event.ts). */
export const ACCESS_ACTIONS = ['record.disclosed', 'record.denied', 'access.decided'] as const;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When staff are expected to work: [start, end) minutes of the local day, on these days. */
export interface WorkingTime {
  timeZone: string;
  startMinute: number;
  endMinute: number;
  days: readonly Weekday[];
}

/** A user's day is unusual above `multiple` × their own daily average and above `floor`. */
export interface VolumeRule {
  multiple: number;
  floor: number;
  /** Days before the day in question whose average is the user's norm. */
  historyDays: number;
}

/** Accesses by one user on one local calendar day. */
export interface DailyCount {
  userId: string;
  day: string;
  count: number;
}

/** What is known about one access entry, from the entry and the IG registers. */
export interface AccessFacts {
  at: string;
  actorId: string | null;
  outcome: string;
  /** How the gateway met need-to-know; absent on entries written before it recorded it. */
  needToKnow: string | null;
  /** The person is on the register as staff of the requester's organisation. */
  subjectIsColleague: boolean;
  /** The registers hold the same surname hash for the requester and the person. */
  sharesSurname: boolean;
}

export interface FlagContext {
  workingTime: WorkingTime;
  /** volumeKey(userId, day) of every unusual user-day (unusualVolumeDays). */
  unusualVolume: ReadonlySet<string>;
}

export interface LocalTime {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
}

/** Parses `HH:MM-HH:MM` (end may be 24:00); null unless the start is before the end. */
export function parseWorkingHours(text: string): { startMinute: number; endMinute: number } | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/.exec(text);
  if (!m) return null;
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const endMinute = m[5] ? 24 * 60 : Number(m[3]) * 60 + Number(m[4]);
  return startMinute < endMinute ? { startMinute, endMinute } : null;
}

/** Parses a comma-separated list of weekdays (`mon,tue`); null when any is not one. */
export function parseWorkingDays(text: string): Weekday[] | null {
  const days = text
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  return days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))
    ? [...new Set(days)]
    : null;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The local date, weekday and time of an instant in an IANA time zone (GMT/BST aware). */
export function localTime(at: Date, timeZone: string): LocalTime {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: parts.weekday.toLowerCase().slice(0, 3) as Weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/**
 * Outside working hours: a non-working weekday, an England and Wales bank holiday, or a local
 * time before the start or from the end of the working day.
 */
export function isOutOfHours(at: Date, working: WorkingTime): boolean {
  const local = localTime(at, working.timeZone);
  if (!working.days.includes(local.weekday) || isBankHoliday(local.date)) return true;
  return local.minute < working.startMinute || local.minute >= working.endMinute;
}

/** Key of one user's local day, as held in FlagContext.unusualVolume. */
export function volumeKey(userId: string, day: string): string {
  return `${userId}\n${day}`;
}

/** The calendar date `days` after (or before, when negative) a YYYY-MM-DD date. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * The user-days whose accesses exceed both the user's own norm (`multiple` × their average
 * over the previous `historyDays` calendar days, days without access counting as 0) and the
 * absolute floor, so a quiet user's handful of extra looks is not reported as unusual. A day's
 * norm is only right when `counts` hold all of its history days.
 */
export function unusualVolumeDays(counts: readonly DailyCount[], rule: VolumeRule): Set<string> {
  const byUser = new Map<string, Map<string, number>>();
  for (const c of counts) {
    const days = byUser.get(c.userId) ?? new Map<string, number>();
    days.set(c.day, (days.get(c.day) ?? 0) + c.count);
    byUser.set(c.userId, days);
  }
  const unusual = new Set<string>();
  for (const [userId, days] of byUser) {
    for (const [day, count] of days) {
      if (count <= rule.floor) continue;
      let history = 0;
      for (let back = 1; back <= rule.historyDays; back++) {
        history += days.get(addDays(day, -back)) ?? 0;
      }
      if (count > rule.multiple * (history / rule.historyDays)) {
        unusual.add(volumeKey(userId, day));
      }
    }
  }
  return unusual;
}

/** The flags an access earns; empty when it needs no second look. */
export function confidentialityFlags(
  access: AccessFacts,
  context: FlagContext,
): ConfidentialityFlag[] {
  const at = new Date(access.at);
  const flags = new Set<ConfidentialityFlag>();
  // Need-to-know was met neither by a relationship, an access grant nor an override. The gateway
  // denies such requests today, so this mostly marks attempts on people the requester has no
  // care relationship with, which is what a confidentiality audit looks for; a permit without
  // need-to-know (should the policy ever allow one) is flagged the same way.
  if (access.needToKnow === 'none') flags.add('no-relationship');
  if (isOutOfHours(at, context.workingTime)) flags.add('out-of-hours');
  if (
    access.actorId !== null &&
    context.unusualVolume.has(
      volumeKey(access.actorId, localTime(at, context.workingTime.timeZone).date),
    )
  ) {
    flags.add('unusual-volume');
  }
  if (access.subjectIsColleague) flags.add('colleague-record');
  if (access.sharesSurname) flags.add('same-surname');
  if (access.outcome === 'deny') flags.add('denied-attempt');
  return CONFIDENTIALITY_FLAGS.filter((f) => flags.has(f));
}
