// Journey 8 of issue 6: who may look at all. Training and account end dates, and view-only
// access grants for non-standard users, reconfirmed every two months.
import { must } from './journey-client';
import { days, type Decision, type JourneyWorld } from './journey-world';

export interface RecertificationRow {
  reason: string;
  userId: string;
  grantId: string | null;
  purpose: string | null;
  validUntil: string | null;
  approvedBy: string | null;
  recertificationDueAt: string | null;
}

export interface AccessJourney {
  person: string;
  lapsedTraining: Decision;
  endedAccount: Decision;
  /** A locum with no care relationship: before a grant, with it, after its end date. */
  visitor: {
    userId: string;
    validUntil: string;
    before: Decision;
    during: Decision;
    after: Decision;
  };
  /** The first denial after the grant's end, and when it came. */
  deniedAt: number;
  /** A locum's longer grant, and the recertification report two months on. */
  locum: {
    userId: string;
    grantId: string;
    during: Decision;
    report: RecertificationRow[];
    asOf: string;
  };
}

interface Grant {
  grantId: string;
  validUntil: string;
}

/** How long the short grant lasts: long enough to be used, short enough to watch it end. */
const SHORT_GRANT_MS = 4000;

/**
 * 8. Out-of-date IG training or an ended account denies access. A non-standard user's
 * view-only grant works until its end date, and shows up for recertification two months on.
 */
export async function accessJourney(w: JourneyWorld): Promise<AccessJourney> {
  w.step('8. Who may look at all: training, account end dates and access grants');
  const person = await w.newPerson();
  const ask = w.request(person, ['care-plan']);
  const lapsedTraining = await w.decide(w.tokens.lapsed, ask);
  w.tell('social worker last trained in January 2024', lapsedTraining);
  const endedAccount = await w.decide(w.tokens.leaver, ask);
  w.tell('social worker whose account ended yesterday', endedAccount);

  const today = new Date().toISOString().slice(0, 10);
  const grant = async (userId: string, validUntil: Date): Promise<Grant> =>
    must<Grant>('POST', `${w.urls.gateway}/v1/access-grants`, w.tokens.admin, {
      userId,
      purpose: 'direct-care',
      validUntil: validUntil.toISOString(),
      approvedBy: 'cg-demo',
    });

  // A one-off user per run: a grant covers every person, so an earlier run's would still count.
  const visitorId = `visitor-${w.run}`;
  await w.putUser(visitorId, 'X26', ['practitioner'], today);
  const visitorToken = w.token(visitorId, 'X26', ['practitioner']);
  const before = await w.decide(visitorToken, ask);
  w.tell('a visiting practitioner with no care relationship', before);
  const short = await grant(visitorId, new Date(Date.now() + SHORT_GRANT_MS));
  const during = await w.decide(visitorToken, ask);
  w.tell(`the same, with a view-only grant until ${short.validUntil.slice(11, 19)}`, during);
  const ended = await w.decideUntil(
    'the visitor denied after the grant’s end',
    visitorToken,
    ask,
    (d) => d.outcome === 'deny',
    250,
  );
  w.tell(`the same, once the grant ended`, ended.decision);

  const locumId = `locum-${w.run}`;
  await w.putUser(locumId, 'X26', ['practitioner'], today);
  const long = await grant(locumId, new Date(Date.now() + days(90)));
  const locumDuring = await w.decide(w.token(locumId, 'X26', ['practitioner']), ask);
  w.tell(`an agency locum with a 90-day view-only grant`, locumDuring);
  // Grants are reconfirmed every two months: the report as it will read in 61 days.
  const asOf = new Date(Date.now() + days(61)).toISOString();
  const report = await w.waitFor('the grant in the recertification report', async () => {
    const rows = await must<RecertificationRow[]>(
      'GET',
      `${w.urls.audit}/v1/reports/recertification?asOf=${encodeURIComponent(asOf)}`,
      w.tokens.ig,
    );
    return rows.some((r) => r.grantId === long.grantId) ? rows : null;
  });
  const row = report.find((r) => r.grantId === long.grantId);
  w.say(
    `recertification report as of ${asOf.slice(0, 10)}: ${row?.userId} ${row?.reason}, due ${row?.recertificationDueAt?.slice(0, 10)}, approved by ${row?.approvedBy}`,
  );
  return {
    person,
    lapsedTraining,
    endedAccount,
    visitor: {
      userId: visitorId,
      validUntil: short.validUntil,
      before,
      during,
      after: ended.decision,
    },
    deniedAt: ended.receivedAt,
    locum: { userId: locumId, grantId: long.grantId, during: locumDuring, report, asOf },
  };
}
