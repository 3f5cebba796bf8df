// Journeys 1-4 and 7 of issue 6: consent, agreements, objections and the national data opt-out
// deciding what a requester may see.
import { must, type Body } from './journey-client';
import { GP, reasonCodes, type Decision, type JourneyWorld, type LogEntry } from './journey-world';

const WRITTEN = { method: 'written', givenBy: 'subject', capacity: 'has-capacity' };

export interface SharedRecordJourney {
  person: string;
  decisionId: string;
  /** The categories the shared care record received. */
  received: string[];
  withheld: { category: string; codes: string[] }[];
  /** The disclosure as the IG officer finds it in the log. */
  logged: LogEntry;
}

/**
 * 1. A social worker records consent for NHS and adult social care to share the care plan and
 * assessments for direct care; a shared care record, on behalf of a GP, fetches the record and
 * gets exactly those; the IG officer sees the access in the log.
 */
export async function sharedCareRecordJourney(w: JourneyWorld): Promise<SharedRecordJourney> {
  w.step('1. A social worker records consent; a shared care record asks on behalf of a GP');
  const person = await w.newPerson();
  w.say(`a made-up person, NHS number ${person}`);
  await must('POST', `${w.urls.consent}/v1/subjects/${person}/consents`, w.tokens.worker, {
    decision: 'granted',
    purposes: ['direct-care'],
    recipients: ['kind:nhs-trust', 'kind:local-authority'],
    dataCategories: ['care-plan', 'assessments'],
    capture: WRITTEN,
  });
  w.say('consent recorded: direct care, NHS trusts and the council, care plan and assessments');
  const record = await must<{
    decisionId: string;
    categories: Body;
    denied: { category: string; reasons: { code: string }[] }[];
  }>(
    'GET',
    `${w.urls.gateway}/v1/subjects/${person}/record?purpose=direct-care&categories=care-plan,assessments,financial&onBehalfOf=${GP}`,
    w.tokens.sharedCareRecord,
  );
  const received = Object.keys(record.categories);
  const withheld = record.denied.map((d) => ({
    category: d.category,
    codes: d.reasons.map((r) => r.code),
  }));
  w.say(`the shared care record received: ${received.join(', ')}`);
  for (const d of withheld) w.say(`withheld ${d.category}: ${d.codes.join(', ')}`);
  const logged = await w.waitFor('the disclosure in the audit log', async () => {
    const entries = await w.logEntries(person, 'record.disclosed');
    return entries.find((e) => e.details.decisionId === record.decisionId) ?? null;
  });
  w.say(
    `the IG officer sees entry #${logged.seq}: ${logged.action} ${logged.outcome} to ${logged.actor?.userId} at ${logged.actor?.org}, ${logged.categories.join(', ')}`,
  );
  return { person, decisionId: record.decisionId, received, withheld, logged };
}

/** 2. A care agency asks for the same record: no agreement covers it. */
export async function careAgencyJourney(w: JourneyWorld, person: string): Promise<Decision> {
  w.step('2. A care agency asks for the same record');
  const decision = await w.decide(w.tokens.agency, w.request(person, ['care-plan', 'assessments']));
  w.tell('care agency', decision);
  return decision;
}

export interface ConsentedSharingJourney {
  person: string;
  withoutConsent: Decision;
  afterConsent: Decision;
  afterWithdrawal: Decision;
  /** From the withdrawal's HTTP answer to the first denied decision's. */
  enforcementMs: number;
}

/**
 * 3. Sharing with housing, outside the direct-care agreements, needs the person's consent:
 * denied without it, permitted with it, denied again once withdrawn (within a second).
 */
export async function consentedSharingJourney(w: JourneyWorld): Promise<ConsentedSharingJourney> {
  w.step('3. Housing, outside the direct-care agreements, needs the person’s consent');
  const person = await w.newPerson();
  const ask = w.request(person, ['care-plan']);
  const withoutConsent = await w.decide(w.tokens.housing, ask);
  w.tell('housing, no consent yet', withoutConsent);
  const consent = await must<{ consentId: string }>(
    'POST',
    `${w.urls.consent}/v1/subjects/${person}/consents`,
    w.tokens.worker,
    {
      decision: 'granted',
      purposes: ['direct-care'],
      recipients: ['HOUSE1'],
      dataCategories: ['care-plan'],
      capture: { method: 'verbal', givenBy: 'subject', capacity: 'has-capacity' },
    },
  );
  const afterConsent = (
    await w.decideUntil('housing permitted after consent', w.tokens.housing, ask, (d) =>
      d.permitted.includes('care-plan'),
    )
  ).decision;
  w.tell('housing, after consent', afterConsent);
  const withdrawal = await must<{ streamVersion: number }>(
    'POST',
    `${w.urls.consent}/v1/subjects/${person}/consents/${consent.consentId}/withdrawal`,
    w.personToken(person),
    { reason: 'I no longer want housing to see my care plan' },
  );
  const withdrawnAt = Date.now();
  // As fast as the gateway answers: the time measured is enforcement, not the polling interval.
  const denied = await w.decideUntil(
    'housing denied after withdrawal',
    w.tokens.housing,
    ask,
    (d) => d.outcome === 'deny',
    0,
  );
  const enforcementMs = denied.receivedAt - withdrawnAt;
  w.say(`the person withdrew their consent (stream version ${withdrawal.streamVersion})`);
  w.tell(`housing, ${enforcementMs} ms after the withdrawal was answered`, denied.decision);
  return {
    person,
    withoutConsent,
    afterConsent,
    afterWithdrawal: denied.decision,
    enforcementMs,
  };
}

export interface ObjectionJourney {
  person: string;
  /** The social worker's request for care plan and assessments at each stage. */
  assessmentsPending: Decision;
  assessmentsUpheld: Decision;
  carePlanPending: Decision;
  carePlanOverruled: Decision;
  overruledObjection: { objectionId: string; status: string } | undefined;
}

/**
 * 4. The person objects: while an objection is pending and once it is upheld the named
 * categories are not shared for direct care; once overruled, with a reason, they are again.
 */
export async function objectionJourney(w: JourneyWorld): Promise<ObjectionJourney> {
  w.step('4. The person objects to the council seeing parts of their record');
  const person = await w.newPerson();
  const self = w.personToken(person);
  const ask = w.request(person, ['care-plan', 'assessments']);
  const objectTo = (category: string, reason: string) =>
    must<{ objectionId: string }>(
      'POST',
      `${w.urls.consent}/v1/subjects/${person}/objections`,
      self,
      {
        purposes: ['direct-care'],
        recipients: ['kind:local-authority'],
        dataCategories: [category],
        reason,
      },
    );
  const decideObjection = (objectionId: string, outcome: string, reason: string) =>
    must(
      'POST',
      `${w.urls.consent}/v1/subjects/${person}/objections/${objectionId}/decision`,
      w.tokens.guardian,
      { outcome, reason },
    );
  const until = async (what: string, expected: (d: Decision) => boolean) =>
    (await w.decideUntil(what, w.tokens.worker, ask, expected)).decision;

  const first = await objectTo('assessments', 'I do not want the council to read my assessments');
  const assessmentsPending = await until('assessments denied while the objection is pending', (d) =>
    reasonCodes(d, 'assessments').includes('objection-pending'),
  );
  w.tell('social worker, objection to assessments pending', assessmentsPending);
  await decideObjection(
    first.objectionId,
    'upheld',
    'The assessments hold nothing the council needs for current care',
  );
  const assessmentsUpheld = await until('assessments denied once the objection is upheld', (d) =>
    reasonCodes(d, 'assessments').includes('objection-upheld'),
  );
  w.tell('social worker, objection upheld by the Caldicott Guardian', assessmentsUpheld);

  const second = await objectTo('care-plan', 'I do not want the council to read my care plan');
  const carePlanPending = await until('care plan denied while the objection is pending', (d) =>
    reasonCodes(d, 'care-plan').includes('objection-pending'),
  );
  w.tell('social worker, objection to the care plan pending', carePlanPending);
  await decideObjection(
    second.objectionId,
    'overruled',
    'Needed to keep the person safe at home; explained to them in person',
  );
  const carePlanOverruled = await until(
    'care plan permitted once the objection is overruled',
    (d) => d.permitted.includes('care-plan'),
  );
  w.tell('social worker, care plan objection overruled with a reason', carePlanOverruled);
  const state = await must<{ objections: { objectionId: string; status: string }[] }>(
    'GET',
    `${w.urls.consent}/v1/subjects/${person}/consent-state`,
    self,
  );
  return {
    person,
    assessmentsPending,
    assessmentsUpheld,
    carePlanPending,
    carePlanOverruled,
    overruledObjection: state.objections.find((o) => o.objectionId === second.objectionId),
  };
}

export interface OptOutJourney {
  person: string;
  researchBefore: Decision;
  research: Decision;
  servicePlanning: Decision;
  directCare: Decision;
}

/** 7. The national data opt-out blocks research and service planning, never direct care. */
export async function nationalOptOutJourney(w: JourneyWorld): Promise<OptOutJourney> {
  w.step('7. A national data opt-out blocks research and service planning, not direct care');
  const person = await w.newPerson();
  const worker = w.tokens.worker;
  const researchBefore = await w.decide(worker, w.request(person, ['care-plan'], 'research'));
  w.tell('research, before the opt-out', researchBefore);
  await must(
    'PUT',
    `${w.urls.consent}/v1/subjects/${person}/national-opt-out`,
    w.personToken(person),
    {
      optedOut: true,
    },
  );
  w.say('the person opts out of secondary uses of their record');
  const research = (
    await w.decideUntil(
      'research denied after the opt-out',
      worker,
      w.request(person, ['care-plan'], 'research'),
      (d) => reasonCodes(d, 'care-plan').includes('national-data-opt-out'),
    )
  ).decision;
  w.tell('research', research);
  const servicePlanning = await w.decide(
    worker,
    w.request(person, ['care-plan'], 'service-planning'),
  );
  w.tell('service planning', servicePlanning);
  const directCare = await w.decide(worker, w.request(person, ['care-plan']));
  w.tell('direct care', directCare);
  return { person, researchBefore, research, servicePlanning, directCare };
}
