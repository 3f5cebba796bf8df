import {
  STATUTES,
  isOneOf,
  DATA_CATEGORY_NAMES,
  PURPOSES,
  ROLES,
  STATUTE_CODES,
  type DataCategory,
  type Purpose,
  type Role,
  type Statute,
} from '#common';
import type { NoticeFacts } from './notice-facts';

/** A notice ready to send: a subject line, the full text, and a short text for SMS. */
export interface NoticeContent {
  subject: string;
  body: string;
  /** The same facts in one paragraph (text messages). */
  shortBody: string;
}

export interface NoticeContext {
  /** Names of organisations by ODS code, from the gateway's reference data. */
  organisationNames: Readonly<Record<string, string>>;
  /** Who to ask or complain to, as configured (NOTICE_CONTACT). */
  contact: string;
  /** What the person quotes when they get in touch: the notification id. */
  reference: string;
}

// Plain-English names of the parts of a record (GOV.UK style: lower case, "your ...").
const CATEGORY_WORDS: Record<DataCategory, string> = {
  demographics: 'your personal details, such as your name and date of birth',
  contacts: 'your contact details',
  'care-plan': 'your care plan',
  assessments: 'your assessments',
  'case-notes': 'the notes about your case',
  medications: 'your medicines',
  financial: 'your financial information',
  safeguarding: 'safeguarding information',
  'mental-health': 'information about your mental health',
  'sexual-health': 'information about your sexual health',
  'substance-misuse': 'information about alcohol or drug use',
  'criminal-justice': 'information about involvement with the police or courts',
  'third-party-information': 'information that other people gave about you',
};

const ROLE_WORDS: Record<Role, string> = {
  social_worker: 'a social worker',
  practitioner: 'a care practitioner',
  safeguarding_lead: 'a safeguarding lead',
  ig_officer: 'an information governance officer',
  caldicott_guardian: 'a Caldicott Guardian',
  admin: 'an administrator',
  system: 'a computer system',
  service_user: 'a person',
};

/** Why each statute lets a record be seen without consent, in words a person can follow. */
const STATUTE_REASONS: Record<Statute, string> = {
  'care-act-2014-s42':
    'to find out whether an adult is at risk of abuse or neglect, and to protect them',
  'care-act-2014-s45': 'so that the Safeguarding Adults Board could do its work to protect adults',
  'children-act-1989-s47':
    'to find out whether a child is at risk of serious harm, and to protect them',
  'hsc-sqa-2015-s251b':
    'because health and care staff must share information when it helps your care',
  'crime-disorder-1998-s115': 'to help prevent crime and disorder',
};

const PURPOSE_REASONS: Record<Purpose, string> = {
  'direct-care': 'to provide care',
  safeguarding: 'to protect people from harm',
  emergency: 'because of an emergency',
  'care-quality-audit': 'to check the quality of care',
  'service-planning': 'to plan services',
  research: 'for research',
};

// Notices go to people in England: dates and times are UK time whatever the server's zone.
const DATE = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: 'numeric',
  minute: '2-digit',
  // h12, not hour12: en-GB's 12-hour clock would otherwise call half past midnight 0:30am.
  hourCycle: 'h12',
});

/** "3 March 2026 at 2:05pm" (GOV.UK style), in UK time. */
export function ukDateTime(iso: string): { date: string; time: string } {
  const at = new Date(iso);
  return { date: DATE.format(at), time: TIME.format(at).replace(/\s/g, '').toLowerCase() };
}

/** "a, b and c". */
function listOf(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function organisation(code: string, names: NoticeContext['organisationNames']): string {
  const name = names[code];
  return name ? `${name} (${code})` : `the organisation with code ${code}`;
}

/** "Care Act 2014 section 42 (safeguarding enquiry)" from the STATUTES wording. */
export function statuteWords(statute: Statute): string {
  return STATUTES[statute].replace(/ s\.(\d+\w*)/g, ' section $1');
}

/**
 * The notice telling a person their record was seen without their consent: who (role and
 * organisation, never the member of staff), which parts, when, why (the statute), and how
 * to ask questions or complain. It carries nothing from the record, no address and no one
 * else's details: only the facts' codes turned into words, and the configured contact.
 */
export function renderNotice(facts: NoticeFacts, context: NoticeContext): NoticeContent {
  const { date, time } = ukDateTime(facts.at);
  const who = isOneOf(ROLES, facts.requesterRole) ? ROLE_WORDS[facts.requesterRole] : 'someone';
  const where = organisation(facts.requesterOrg, context.organisationNames);
  const parts = facts.categories.filter((c): c is DataCategory => isOneOf(DATA_CATEGORY_NAMES, c));
  const what = parts.length > 0 ? listOf(parts.map((c) => CATEGORY_WORDS[c])) : 'your care record';
  // On the record route the gateway released the data itself; otherwise it allowed it.
  const saw = facts.channel === 'record' ? 'looked at' : 'was allowed to look at';
  const sharedWith =
    facts.recipientOrg !== facts.requesterOrg
      ? ` It was shared with ${organisation(facts.recipientOrg, context.organisationNames)}.`
      : '';
  const statute = isOneOf(STATUTE_CODES, facts.statute) ? facts.statute : null;
  const purposeWhy = isOneOf(PURPOSES, facts.purpose)
    ? PURPOSE_REASONS[facts.purpose]
    : 'to protect people from harm';
  const why = statute
    ? `The law allows this ${STATUTE_REASONS[statute]}. The law is the ${statuteWords(statute)}.`
    : `This was done ${purposeWhy}, which the law allows in some situations.`;
  // The text message names the statute without its parenthesis, to stay short.
  const shortWhy = statute
    ? `The law allows this ${STATUTE_REASONS[statute]} (${statuteWords(statute).replace(/ \(.*\)$/, '')}).`
    : `This was done ${purposeWhy}.`;

  const subject = 'Your care record was looked at without your consent';
  const body = [
    `On ${date} at ${time}, ${who} at ${where} ${saw} ${what} without asking you first.${sharedWith}`,
    'Why this happened',
    why,
    'We are telling you because we promise to let you know, as soon as we can, when information about you is shared without your consent.',
    'This message does not include anything from your record.',
    'If you have questions or want to complain',
    `Contact ${context.contact}. Give this reference: ${context.reference}.`,
    'If you are not happy with the answer, you can complain to the Information Commissioner’s Office: ico.org.uk or 0303 123 1113.',
  ].join('\n\n');
  const shortBody = [
    `On ${date}, ${who} at ${where} ${saw} ${what} without asking you first.`,
    shortWhy,
    `Questions or complaints: ${context.contact}. Reference: ${context.reference}.`,
  ].join(' ');
  return { subject, body, shortBody };
}
