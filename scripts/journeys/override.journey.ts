// Journey 5 of issue 6: the safeguarding override, its review and the notice the person gets.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, must, type Body } from './journey-client';
import { days, type JourneyWorld, type LogEntry } from './journey-world';

const STATUTE = 'care-act-2014-s42';

/** A notice as `GET /v1/notifications` lists it (the fields the journey reads). */
export interface Notice {
  id: string;
  decisionId: string;
  subjectId: string;
  status: 'pending' | 'sent' | 'failed' | 'deferred';
  attempts: number;
  channel: string | null;
  sentAt: string | null;
  failureReason: string | null;
  deferral: null | {
    id: string;
    reviewBy: string;
    deferredBy: string;
    deferredWith: string | null;
  };
}

export interface Override {
  status: number;
  decisionId: string;
  categories: string[];
  legalBasis: { source: string; statutes: string[] };
  obligations: string[];
}

export interface OverrideJourney {
  person: string;
  override: Override;
  /** The override as the IG review queue lists it, if it does. */
  queued: Body | undefined;
  /** Every notice the person has, once theirs was sent. */
  notices: Notice[];
  /** The notice's text as written to the local outbox (null when notices go elsewhere). */
  noticeText: string | null;
  sentEntries: LogEntry[];
  deferred: {
    person: string;
    reviewBy: string;
    first: Notice;
    second: Notice;
    /** The second person's notices after the first person's was sent. */
    notices: Notice[];
    sentEntries: LogEntry[];
    /** Whether any notice file exists for them in the local outbox. */
    filesWritten: boolean;
  };
}

/**
 * 5. A safeguarding lead overrides under the Care Act 2014 s.42: permitted, queued for IG review,
 * and the person told once in plain English. For a second person, whose first notice an IG
 * officer deferred (telling them would alert the alleged abuser), a further override sends
 * nothing until the review date.
 */
export async function safeguardingOverrideJourney(w: JourneyWorld): Promise<OverrideJourney> {
  w.step('5. A safeguarding lead overrides, under the Care Act 2014 s.42');
  const person = await w.newPerson();
  const other = await w.newPerson();
  await must(
    'PUT',
    `${w.urls.consent}/v1/subjects/${person}/contact-preferences`,
    w.personToken(person),
    { channel: 'email', email: 'made-up.person@example.org' },
  );

  // The second person has given no contact details yet, so their first notice cannot go.
  const firstOther = await override(w, other);
  const failed = await waitForNotice(w, other, firstOther.decisionId, (n) => n.status === 'failed');
  const reviewBy = new Date(Date.now() + days(28)).toISOString();
  const deferral = await must<Notice>(
    'POST',
    `${w.urls.audit}/v1/notifications/${failed.id}/deferral`,
    w.tokens.ig,
    {
      reason: 'Telling the person now would alert the alleged abuser who lives with them',
      reviewBy,
    },
  );
  await must(
    'PUT',
    `${w.urls.consent}/v1/subjects/${other}/contact-preferences`,
    w.personToken(other),
    { channel: 'sms', phone: '07700900123' },
  );

  const read = await override(w, person);
  w.say(`the safeguarding lead received: ${read.categories.join(', ')}`);
  w.say(
    `legal basis: ${read.legalBasis.statutes.join(', ')}; obligations: ${read.obligations.join(', ')}`,
  );
  const queue = await w.waitFor('the override in the IG review queue', async () => {
    const list = await must<Body[]>(
      'GET',
      `${w.urls.audit}/v1/reports/break-glass?status=unreviewed`,
      w.tokens.ig,
    );
    return list.some((o) => o.decisionId === read.decisionId) ? list : null;
  });
  w.say(`the IG review queue holds ${queue.length} override(s), this one included`);

  const secondOther = await override(w, other);
  const second = await waitForNotice(w, other, secondOther.decisionId, () => true);
  const sent = await waitForNotice(w, person, read.decisionId, (n) => n.status === 'sent');
  const noticeText = readNotice(w, sent.id);
  w.say(`the person was sent one notice, by ${sent.channel}:`);
  // The text as the person reads it; the file's header (their address) is left out.
  const shown = noticeText === null ? '(sent through GOV.UK Notify)' : noticeBody(noticeText);
  for (const line of shown.split('\n')) if (line.trim() !== '') w.say(`  | ${line}`);
  const sentEntries = await w.waitFor('the sent notice in the audit log', async () => {
    const entries = await w.logEntries(person, 'audit.notification.sent');
    return entries.length > 0 ? entries : null;
  });

  const otherNotices = await notices(w, other);
  w.say(
    `another person's notice was deferred by an IG officer until ${reviewBy.slice(0, 10)}; a second override on them:`,
  );
  for (const n of otherNotices) {
    w.say(
      `  notice ${n.id}: ${n.status}, review by ${n.deferral?.reviewBy.slice(0, 10) ?? '-'}, attempts ${n.attempts}`,
    );
  }
  return {
    person,
    override: read,
    queued: queue.find((o) => o.decisionId === read.decisionId),
    notices: await notices(w, person),
    noticeText,
    sentEntries,
    deferred: {
      person: other,
      reviewBy: deferral.deferral?.reviewBy ?? '',
      first: deferral,
      second,
      notices: otherNotices,
      sentEntries: await w.logEntries(other, 'audit.notification.sent'),
      filesWritten: otherNotices.some((n) => readNotice(w, n.id) !== null),
    },
  };
}

async function override(w: JourneyWorld, person: string): Promise<Override> {
  const answer = await call<Override & { categories: Body }>(
    'GET',
    `${w.urls.gateway}/v1/subjects/${person}/record?purpose=safeguarding&categories=care-plan,safeguarding`,
    w.tokens.lead,
    undefined,
    {
      'x-break-glass-reason':
        'District nurse reports unexplained bruising; s.42 enquiry opened today',
      'x-break-glass-statute': STATUTE,
    },
  );
  if (answer.status !== 200) {
    throw new Error(`the override answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return { ...answer.body, status: answer.status, categories: Object.keys(answer.body.categories) };
}

function notices(w: JourneyWorld, person: string): Promise<Notice[]> {
  return must<Notice[]>(
    'GET',
    `${w.urls.audit}/v1/notifications?subjectId=${person}&limit=1000`,
    w.tokens.ig,
  );
}

function waitForNotice(
  w: JourneyWorld,
  person: string,
  decisionId: string,
  expected: (n: Notice) => boolean,
): Promise<Notice> {
  return w.waitFor(`the notice of decision ${decisionId}`, async () => {
    const notice = (await notices(w, person)).find((n) => n.decisionId === decisionId);
    return notice && expected(notice) ? notice : null;
  });
}

/** The notice as the person reads it, from the audit service's local outbox. */
function readNotice(w: JourneyWorld, notificationId: string): string | null {
  const dir = w.ctx.noticeDir;
  if (dir === null) return null;
  const file = join(dir, `${notificationId}.txt`);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** A local outbox file's notice text, after its header of destination, channel and subject. */
export function noticeBody(file: string): string {
  return file.slice(file.indexOf('\n\n') + 2).trim();
}
