// `npm run demo` (after `npm start`): walks through what the Care Consent Ledger is for, against
// the running services, and prints what was asked, what was decided and why, and what the
// audit log shows. Each run uses a new made-up person, so it can be run again and again.
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { ensureLocalKeyPair, nhsNumbers, signLocalToken, type Role } from '#common';
import { checkSavedProof, type SavedProof } from '../apps/audit-service/src/log/verify/proof-check';

const env = process.env;
const DATA_DIR = resolve(env.DATA_DIR ?? resolve(__dirname, '..', '..', '.data'));
const CONSENT = `http://127.0.0.1:${env.CONSENT_PORT ?? 3001}`;
const GATEWAY = `http://127.0.0.1:${env.GATEWAY_PORT ?? 3002}`;
const AUDIT = `http://127.0.0.1:${env.AUDIT_PORT ?? 3003}`;
const TODAY = new Date().toISOString().slice(0, 10);

const keys = ensureLocalKeyPair(DATA_DIR);
const token = (sub: string, org: string, roles: Role[], name?: string): string =>
  signLocalToken(keys, { sub, org, roles, teams: [], expiresIn: '1h', ...(name ? { name } : {}) });

const ADMIN = token('demo-admin', 'X26', ['admin', 'ig_officer'], 'Demo Administrator');
const IG = token('ig-demo', 'X26', ['ig_officer'], 'I. G. Officer');
const GUARDIAN = token('cg-demo', 'X26', ['caldicott_guardian'], 'C. Guardian');
const WORKER = token('sw-demo', 'X26', ['social_worker'], 'A. Social Worker');
const LEAD = token('lead-demo', 'X26', ['safeguarding_lead'], 'S. Lead');
const SCR = token('shared-care-record', 'RX1', ['system']);
const AGENCY = token('agency-demo', 'CARE1', ['practitioner']);
const HOUSING = token('housing-demo', 'HOUSE1', ['practitioner']);
const LAPSED = token('lapsed-demo', 'X26', ['social_worker']);

type Body = Record<string, unknown>;
interface Answer {
  status: number;
  body: Body & { [key: string]: unknown };
}

async function call(method: string, url: string, bearer: string, body?: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Body) : {} };
}

async function must(method: string, url: string, bearer: string, body?: unknown): Promise<Body> {
  const answer = await call(method, url, bearer, body);
  if (answer.status >= 400) {
    throw new Error(`${method} ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

const say = (text = ''): void => void process.stdout.write(`${text}\n`);
const step = (title: string): void => say(`\n== ${title}`);

interface Decision {
  decisionId: string;
  outcome: string;
  permitted: string[];
  denied: { category: string; reasons: { code: string; message: string }[] }[];
  legalBasis: { source: string; article6: string | null; statutes: string[] };
  obligations: string[];
  explanation: string;
}

function tell(who: string, decision: Decision): void {
  say(`   ${who}: ${decision.outcome.toUpperCase()}`);
  if (decision.permitted.length > 0) say(`     permitted: ${decision.permitted.join(', ')}`);
  for (const d of decision.denied) {
    say(
      `     denied ${d.category}: ${d.reasons.map((r) => `${r.code} (${r.message})`).join('; ')}`,
    );
  }
}

/** Asks until the answer is the one expected (the gateway's consent copy trails by moments). */
async function decideUntil(
  bearer: string,
  body: Body,
  expected: (d: Decision) => boolean,
): Promise<{ decision: Decision; ms: number }> {
  const started = Date.now();
  for (;;) {
    const decision = (await must(
      'POST',
      `${GATEWAY}/v1/decisions`,
      bearer,
      body,
    )) as unknown as Decision;
    if (expected(decision) || Date.now() - started > 10_000)
      return { decision, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function referenceData(person: string): Promise<void> {
  step('Reference data an IG officer keeps (every change is itself audited)');
  const orgs: [string, string, string][] = [
    ['X26', 'Northshire County Council', 'local-authority'],
    ['RX1', 'Northshire NHS Foundation Trust', 'nhs-trust'],
    ['CARE1', 'Helping Hands Care Agency', 'care-provider'],
    ['HOUSE1', 'Northshire Homes', 'housing'],
  ];
  for (const [ods, name, kind] of orgs) {
    await must('PUT', `${GATEWAY}/v1/organisations/${ods}`, ADMIN, { name, kind, country: 'GB' });
  }
  const users: [string, string, Role[], string][] = [
    ['sw-demo', 'X26', ['social_worker'], TODAY],
    ['lead-demo', 'X26', ['safeguarding_lead'], TODAY],
    ['gp-demo', 'RX1', ['practitioner'], TODAY],
    ['agency-demo', 'CARE1', ['practitioner'], TODAY],
    ['housing-demo', 'HOUSE1', ['practitioner'], TODAY],
    ['lapsed-demo', 'X26', ['social_worker'], '2024-01-15'],
  ];
  for (const [userId, org, roles, trained] of users) {
    await must('PUT', `${GATEWAY}/v1/users/${userId}`, ADMIN, {
      org,
      roles,
      teams: [],
      igTrainingCompletedOn: trained,
    });
  }
  const existing = (await must('GET', `${GATEWAY}/v1/agreements?limit=500`, ADMIN)) as {
    agreements: { title: string }[];
  };
  const agreements = [
    {
      title: 'Demo: direct care across health and adult social care',
      parties: ['kind:local-authority', 'kind:nhs-trust'],
      roles: ['social_worker', 'practitioner', 'safeguarding_lead'],
      purposes: ['direct-care', 'research'],
      dataCategories: ['demographics', 'care-plan', 'assessments'],
      legalBasis: {
        article6: 'UK-GDPR-6-1-e',
        article9: 'UK-GDPR-9-2-h',
        statutes: ['hsc-sqa-2015-s251b'],
      },
    },
    {
      title: 'Demo: housing support, with the person’s consent',
      parties: ['HOUSE1'],
      roles: ['practitioner'],
      purposes: ['direct-care'],
      dataCategories: ['care-plan'],
      legalBasis: { article6: 'UK-GDPR-6-1-a', statutes: [] },
    },
  ];
  for (const agreement of agreements) {
    if (existing.agreements.some((a) => a.title === agreement.title)) continue;
    await must('POST', `${GATEWAY}/v1/agreements`, ADMIN, {
      ...agreement,
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2030-01-01T00:00:00Z',
      status: 'active',
    });
  }
  for (const userId of ['sw-demo', 'gp-demo', 'agency-demo', 'housing-demo', 'lapsed-demo']) {
    await must('POST', `${GATEWAY}/v1/relationships`, ADMIN, {
      userId,
      subjectId: person,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    });
  }
  say(`   4 organisations, 6 users, 2 data sharing agreements, care relationships with ${person}`);
}

async function main(): Promise<void> {
  const person = nhsNumbers(1, randomInt(900_000_000, 990_000_000))[0];
  const PERSON = token(person, 'X26', ['service_user']);
  const ask = (categories: string[], purposeOfUse = 'direct-care', extra: Body = {}): Body => ({
    subjectId: person,
    purposeOfUse,
    dataCategories: categories,
    ...extra,
  });
  say(`Care Consent Ledger demo: a made-up person, NHS number ${person}`);
  await referenceData(person);

  step('1. A social worker records consent; a shared care record asks on behalf of a GP');
  await must('POST', `${CONSENT}/v1/subjects/${person}/consents`, WORKER, {
    decision: 'granted',
    purposes: ['direct-care'],
    recipients: ['kind:nhs-trust', 'kind:local-authority'],
    dataCategories: ['care-plan', 'assessments'],
    capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
  });
  say('   consent recorded: direct care, NHS trusts and the council, care plan and assessments');
  const record = await must(
    'GET',
    `${GATEWAY}/v1/subjects/${person}/record?purpose=direct-care&categories=care-plan,assessments,financial&onBehalfOf=gp-demo`,
    SCR,
  );
  say(`   the shared care record received: ${Object.keys(record.categories as Body).join(', ')}`);
  for (const d of record.denied as Decision['denied']) {
    say(`   withheld ${d.category}: ${d.reasons.map((r) => r.code).join(', ')}`);
  }

  step('2. A care agency asks for the same record');
  tell(
    'care agency',
    (await must(
      'POST',
      `${GATEWAY}/v1/decisions`,
      AGENCY,
      ask(['care-plan']),
    )) as unknown as Decision,
  );

  step('3. Housing, outside the direct-care agreements, needs the person’s consent');
  tell(
    'housing, no consent yet',
    (await must(
      'POST',
      `${GATEWAY}/v1/decisions`,
      HOUSING,
      ask(['care-plan']),
    )) as unknown as Decision,
  );
  const housingConsent = await must('POST', `${CONSENT}/v1/subjects/${person}/consents`, WORKER, {
    decision: 'granted',
    purposes: ['direct-care'],
    recipients: ['HOUSE1'],
    dataCategories: ['care-plan'],
    capture: { method: 'verbal', givenBy: 'subject', capacity: 'has-capacity' },
  });
  const permitted = await decideUntil(HOUSING, ask(['care-plan']), (d) => d.outcome === 'permit');
  tell('housing, after consent', permitted.decision);
  await must(
    'POST',
    `${CONSENT}/v1/subjects/${person}/consents/${housingConsent.consentId as string}/withdrawal`,
    PERSON,
    {
      reason: 'I no longer want housing to see my care plan',
    },
  );
  const withdrawn = await decideUntil(HOUSING, ask(['care-plan']), (d) => d.outcome === 'deny');
  tell(`housing, ${withdrawn.ms} ms after the person withdrew`, withdrawn.decision);

  step('4. The person objects to the council seeing their assessments');
  const objection = await must('POST', `${CONSENT}/v1/subjects/${person}/objections`, PERSON, {
    purposes: ['direct-care'],
    recipients: ['kind:local-authority'],
    dataCategories: ['assessments'],
    reason: 'I do not want the council to read my assessments',
  });
  tell(
    'social worker, objection pending',
    (await decideUntil(WORKER, ask(['assessments']), (d) => d.outcome === 'deny')).decision,
  );
  await must(
    'POST',
    `${CONSENT}/v1/subjects/${person}/objections/${objection.objectionId as string}/decision`,
    GUARDIAN,
    {
      outcome: 'overruled',
      reason: 'Needed to keep the person safe at home; explained to them in person',
    },
  );
  tell(
    'social worker, objection overruled',
    (await decideUntil(WORKER, ask(['assessments']), (d) => d.outcome === 'permit')).decision,
  );

  step('5. A safeguarding lead overrides, under the Care Act 2014 s.42');
  const override = await fetch(
    `${GATEWAY}/v1/subjects/${person}/record?purpose=safeguarding&categories=care-plan,safeguarding`,
    {
      headers: {
        authorization: `Bearer ${LEAD}`,
        'x-break-glass-reason':
          'District nurse reports unexplained bruising; s.42 enquiry opened today',
        'x-break-glass-statute': 'care-act-2014-s42',
      },
    },
  ).then(
    async (r) =>
      (await r.json()) as Body & {
        decisionId: string;
        categories: Body;
        legalBasis: Decision['legalBasis'];
        obligations: string[];
      },
  );
  say(`   the safeguarding lead received: ${Object.keys(override.categories).join(', ')}`);
  say(
    `   legal basis: ${override.legalBasis.statutes.join(', ')}; obligations: ${override.obligations.join(', ')}`,
  );
  const queue = await waitFor(async () => {
    const list = (await must(
      'GET',
      `${AUDIT}/v1/reports/break-glass?status=unreviewed`,
      IG,
    )) as unknown as { decisionId: string }[];
    return list.some((o) => o.decisionId === override.decisionId) ? list : null;
  });
  say(`   the IG review queue now holds ${queue.length} override(s), this one included`);

  step('6. The person sees who has seen their record, and checks one proof themselves');
  const disclosures = await waitFor(async () => {
    const list = (await must(
      'GET',
      `${AUDIT}/v1/subjects/${person}/disclosures`,
      PERSON,
    )) as unknown as {
      seq: number;
      at: string;
      recipientOrg: string;
      purpose: string;
      categories: string[];
      withoutConsent: boolean;
    }[];
    return list.length > 0 ? list : null;
  });
  for (const d of disclosures) {
    say(
      `   ${d.at.slice(0, 19)}  ${d.recipientOrg}  ${d.purpose}  ${d.categories.join(', ')}${d.withoutConsent ? '  (not on the basis of consent)' : ''}`,
    );
  }
  const seq = disclosures[disclosures.length - 1].seq;
  const proof = await waitFor(async () => {
    const answer = await call('GET', `${AUDIT}/v1/audit/entries/${seq}/proof`, PERSON);
    return answer.status === 200 ? (answer.body as unknown as SavedProof) : null;
  });
  const published = (await must('GET', `${AUDIT}/v1/audit/keys`, PERSON)) as unknown as {
    keyId: string;
    publicKey: string;
  }[];
  const key = published.find((k) => k.keyId === proof.treeHead?.keyId)?.publicKey ?? '';
  const check = checkSavedProof(proof, key);
  for (const c of check.checks) say(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
  const other = await call('GET', `${AUDIT}/v1/subjects/9434765919/disclosures`, PERSON);
  say(`   asking for someone else's disclosures: ${other.status} ${String(other.body.error)}`);

  step('7. A national data opt-out blocks research, not direct care');
  await must('PUT', `${CONSENT}/v1/subjects/${person}/national-opt-out`, PERSON, {
    optedOut: true,
  });
  tell(
    'research',
    (await decideUntil(WORKER, ask(['care-plan'], 'research'), (d) => d.outcome === 'deny'))
      .decision,
  );
  tell(
    'direct care',
    (await must(
      'POST',
      `${GATEWAY}/v1/decisions`,
      WORKER,
      ask(['care-plan']),
    )) as unknown as Decision,
  );

  step('8. IG training out of date');
  tell(
    'social worker trained in January 2024',
    (await must(
      'POST',
      `${GATEWAY}/v1/decisions`,
      LAPSED,
      ask(['care-plan']),
    )) as unknown as Decision,
  );

  step('The audit log');
  const entries = (await must(
    'GET',
    `${AUDIT}/v1/audit/entries?subjectId=${person}&limit=1000`,
    IG,
  )) as {
    entries: { seq: number; action: string; outcome: string; actor: { userId: string } | null }[];
  };
  for (const e of entries.entries)
    say(`   #${e.seq}  ${e.action}  ${e.outcome}  by ${e.actor?.userId ?? '-'}`);
  const verified = (await must('POST', `${AUDIT}/v1/audit/verify`, IG)) as {
    ok: boolean;
    checked: number;
    firstBadSeq?: number;
  };
  say(
    verified.ok
      ? `   audit chain verified: ${verified.checked} entries, every signed tree head matches`
      : `   AUDIT CHAIN BROKEN at entry ${verified.firstBadSeq}`,
  );
  if (!verified.ok || !check.ok) process.exitCode = 1;
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the audit service');
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write('Is the system running? Start it with `npm start` in another terminal.\n');
  process.exit(1);
});
