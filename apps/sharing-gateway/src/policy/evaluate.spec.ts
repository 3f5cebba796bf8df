import type { DataCategory } from '#common';
import { DEFAULT_POLICY_CONFIG, evaluate } from './evaluate';
import {
  REASON_CODES,
  type AgreementFacts,
  type BreakGlassWindowFacts,
  type Decision,
  type DecisionFacts,
  type DecisionRequest,
  type PolicyConfig,
  type ReasonCode,
  type ReplicaConsent,
  type ReplicaObjection,
} from './policy.types';

const AT = '2026-11-24T10:00:00.000Z';
const SUBJECT = '9434765919';

const USER = {
  userId: 'u-sw-1',
  org: 'X26',
  roles: ['social_worker' as const],
  teams: ['team-east'],
  igTrainingCompletedOn: '2026-03-01',
  accountEndsOn: null,
};
const PRACTITIONER = { ...USER, userId: 'u-pr-1', roles: ['practitioner' as const] };
const ORG = { odsCode: 'X26', kind: 'local-authority' as const, country: 'GB' };

/** Public task (6-1-e) for direct care of care plans and assessments; names no sensitive data. */
const PUBLIC_TASK: AgreementFacts = {
  agreementId: 'dsa-public-task',
  version: 1,
  parties: ['X26', 'RX1'],
  roles: ['social_worker', 'practitioner'],
  purposes: ['direct-care'],
  dataCategories: ['care-plan', 'assessments'],
  legalBasis: {
    article6: 'UK-GDPR-6-1-e',
    article9: 'UK-GDPR-9-2-h',
    statutes: ['hsc-sqa-2015-s251b'],
  },
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: null,
  status: 'active',
  internationalTransferSafeguards: null,
};
/** Consent-based (6-1-a) sharing of care plans and mental health with the same organisation. */
const CONSENT_BASED: AgreementFacts = {
  ...PUBLIC_TASK,
  agreementId: 'dsa-consent',
  dataCategories: ['care-plan', 'mental-health'],
  legalBasis: { article6: 'UK-GDPR-6-1-a', article9: 'UK-GDPR-9-2-a', statutes: [] },
};
const RESEARCH: AgreementFacts = {
  ...PUBLIC_TASK,
  agreementId: 'dsa-research',
  purposes: ['research', 'service-planning', 'direct-care'],
};

const RELATIONSHIP = {
  relationshipId: 'rel-1',
  userId: USER.userId,
  teamId: null,
  subjectId: SUBJECT,
  type: 'allocated-worker',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: null,
};

const CONSENT: ReplicaConsent = {
  consentId: 'c-1',
  decision: 'granted',
  purposes: ['direct-care'],
  recipients: ['X26'],
  dataCategories: ['care-plan'],
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  withdrawnAt: null,
};
const REFUSAL: ReplicaConsent = { ...CONSENT, consentId: 'r-1', decision: 'refused' };
const OBJECTION: ReplicaObjection = {
  objectionId: 'o-1',
  status: 'pending',
  purposes: ['direct-care'],
  recipients: ['kind:local-authority'],
  dataCategories: ['care-plan'],
};

const WINDOW: BreakGlassWindowFacts = {
  decisionId: 'dec-override-1',
  statute: 'care-act-2014-s42',
  opensAt: '2026-11-24T08:00:00.000Z',
  closesAt: '2026-11-25T08:00:00.000Z',
};
const BREAK_GLASS = {
  reason: 'Allegation of abuse made today',
  statutoryBasis: 'care-act-2014-s42' as const,
};

/** Baseline: a social worker with an allocated-worker relationship, care-plan for direct care. */
const REQUEST: DecisionRequest = {
  subjectId: SUBJECT,
  purposeOfUse: 'direct-care',
  dataCategories: ['care-plan'],
  requesterUserId: USER.userId,
  recipientOrg: null,
  breakGlass: null,
  at: AT,
};
const FACTS: DecisionFacts = {
  user: USER,
  organisation: ORG,
  agreements: [PUBLIC_TASK],
  relationships: [RELATIONSHIP],
  accessGrants: [],
  consent: { streamVersion: 7, consents: [], objections: [], nationalOptOut: false, stale: false },
  breakGlassWindows: [],
};
const NO_RELATIONSHIP: Partial<DecisionFacts> = { relationships: [] };

function consentState(over: Partial<DecisionFacts['consent']>): DecisionFacts['consent'] {
  return { ...FACTS.consent, ...over };
}

interface Given {
  request?: Partial<DecisionRequest>;
  facts?: Partial<DecisionFacts>;
  config?: Partial<PolicyConfig>;
}

function when(given: Given): Decision {
  return evaluate(
    { ...REQUEST, ...given.request },
    { ...FACTS, ...given.facts },
    { ...DEFAULT_POLICY_CONFIG, ...given.config },
  );
}

/** Reason codes per denied category, in order. */
function deniedCodes(decision: Decision): Partial<Record<DataCategory, ReasonCode[]>> {
  return Object.fromEntries(decision.denied.map((d) => [d.category, d.reasons.map((r) => r.code)]));
}

interface Row extends Given {
  name: string;
  outcome: Decision['outcome'];
  permitted?: DataCategory[];
  denied?: Partial<Record<DataCategory, ReasonCode[]>>;
}

const PERMIT_CARE_PLAN = { outcome: 'permit' as const, permitted: ['care-plan' as const] };
const deny = (...codes: ReasonCode[]) => ({
  outcome: 'deny' as const,
  denied: { 'care-plan': codes },
});

const ROWS: Row[] = [
  // Baseline
  { name: 'baseline: public task, user relationship', ...PERMIT_CARE_PLAN },

  // Step 1: requester eligibility
  { name: 'unknown user', facts: { user: null }, ...deny('requester-inactive') },
  { name: 'unknown organisation', facts: { organisation: null }, ...deny('requester-inactive') },
  {
    name: 'unknown user and unknown organisation give one requester-inactive reason',
    facts: { user: null, organisation: null },
    ...deny('requester-inactive'),
  },
  {
    name: 'account ended yesterday',
    facts: { user: { ...USER, accountEndsOn: '2026-11-23' } },
    ...deny('requester-inactive'),
  },
  {
    name: 'account ending today is still active at the last second of the day',
    request: { at: '2026-11-24T23:59:59.999Z' },
    facts: { user: { ...USER, accountEndsOn: '2026-11-24' } },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'account ending today has ended at midnight UTC',
    request: { at: '2026-11-25T00:00:00.000Z' },
    facts: { user: { ...USER, accountEndsOn: '2026-11-24' } },
    ...deny('requester-inactive'),
  },
  {
    name: 'never trained',
    facts: { user: { ...USER, igTrainingCompletedOn: null } },
    ...deny('training-expired'),
  },
  {
    name: 'training exactly 12 months old is valid',
    facts: { user: { ...USER, igTrainingCompletedOn: '2025-11-24' } },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'training exactly 12 months old is valid until the end of that UTC day',
    request: { at: '2026-11-24T23:59:59.999Z' },
    facts: { user: { ...USER, igTrainingCompletedOn: '2025-11-24' } },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'training 12 months and 1 day old has expired',
    facts: { user: { ...USER, igTrainingCompletedOn: '2025-11-23' } },
    ...deny('training-expired'),
  },
  {
    name: 'training on 29 February expires after 28 February next year (month end clamped)',
    request: { at: '2025-02-28T12:00:00.000Z' },
    facts: {
      user: { ...USER, igTrainingCompletedOn: '2024-02-29' },
      agreements: [{ ...PUBLIC_TASK, validFrom: '2024-01-01T00:00:00.000Z' }],
      relationships: [{ ...RELATIONSHIP, validFrom: '2024-01-01T00:00:00.000Z' }],
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'training on 29 February has expired on 1 March next year',
    request: { at: '2025-03-01T00:00:00.000Z' },
    facts: {
      user: { ...USER, igTrainingCompletedOn: '2024-02-29' },
      agreements: [{ ...PUBLIC_TASK, validFrom: '2024-01-01T00:00:00.000Z' }],
      relationships: [{ ...RELATIONSHIP, validFrom: '2024-01-01T00:00:00.000Z' }],
    },
    ...deny('training-expired'),
  },
  {
    name: 'training validity follows the configured number of months',
    config: { trainingValidityMonths: 24 },
    facts: { user: { ...USER, igTrainingCompletedOn: '2024-11-24' } },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'role without record access (ig_officer)',
    facts: { user: { ...USER, roles: ['ig_officer'] } },
    ...deny('role-not-permitted'),
  },
  {
    name: 'every eligibility failure is reported together',
    facts: {
      user: { ...USER, roles: ['admin'], igTrainingCompletedOn: null, accountEndsOn: '2026-01-01' },
    },
    ...deny('requester-inactive', 'training-expired', 'role-not-permitted'),
  },
  {
    name: 'eligibility failure reports only eligibility reasons (no relationship, no agreement)',
    facts: { user: { ...USER, igTrainingCompletedOn: null }, agreements: [], relationships: [] },
    ...deny('training-expired'),
  },
  {
    name: 'break-glass never overrides eligibility (expired training)',
    request: { breakGlass: BREAK_GLASS },
    facts: { user: { ...USER, igTrainingCompletedOn: '2025-01-01' } },
    ...deny('training-expired'),
  },
  {
    name: 'an open window never overrides eligibility',
    facts: { user: { ...USER, accountEndsOn: '2026-11-01' }, breakGlassWindows: [WINDOW] },
    ...deny('requester-inactive'),
  },

  // Step 2: need-to-know
  {
    name: 'no relationship and no grant',
    facts: NO_RELATIONSHIP,
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'expired relationship',
    facts: { relationships: [{ ...RELATIONSHIP, validUntil: '2026-11-24T10:00:00.000Z' }] },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'relationship not yet started',
    facts: { relationships: [{ ...RELATIONSHIP, validFrom: '2026-12-01T00:00:00.000Z' }] },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'relationship with another person',
    facts: { relationships: [{ ...RELATIONSHIP, subjectId: '9876543210' }] },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'relationship of another user',
    facts: { relationships: [{ ...RELATIONSHIP, userId: 'u-other' }] },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: "relationship of one of the user's teams",
    facts: { relationships: [{ ...RELATIONSHIP, userId: null, teamId: 'team-east' }] },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'relationship of a team the user is not in',
    facts: { relationships: [{ ...RELATIONSHIP, userId: null, teamId: 'team-west' }] },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'access grant for the requested purpose',
    facts: {
      relationships: [],
      accessGrants: [
        { grantId: 'g-1', userId: USER.userId, purpose: 'direct-care', validUntil: '2027-01-24' },
      ],
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'access grant for another purpose',
    facts: {
      relationships: [],
      accessGrants: [
        { grantId: 'g-1', userId: USER.userId, purpose: 'research', validUntil: '2027-01-24' },
      ],
    },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'expired access grant',
    facts: {
      relationships: [],
      accessGrants: [
        { grantId: 'g-1', userId: USER.userId, purpose: 'direct-care', validUntil: AT },
      ],
    },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'access grant of another user',
    facts: {
      relationships: [],
      accessGrants: [
        { grantId: 'g-1', userId: 'u-other', purpose: 'direct-care', validUntil: '2027-01-24' },
      ],
    },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'need-to-know and agreement reasons are both reported',
    facts: { relationships: [], agreements: [] },
    ...deny('no-legitimate-relationship', 'no-agreement'),
  },

  // Step 3: agreement
  { name: 'no agreement at all', facts: { agreements: [] }, ...deny('no-agreement') },
  {
    name: 'agreement for another purpose',
    request: { purposeOfUse: 'care-quality-audit' },
    ...deny('no-agreement'),
  },
  {
    name: 'agreement naming another organisation',
    facts: { agreements: [{ ...PUBLIC_TASK, parties: ['RX1', 'kind:nhs-trust'] }] },
    ...deny('no-agreement'),
  },
  {
    name: 'agreement naming the organisation by kind',
    facts: { agreements: [{ ...PUBLIC_TASK, parties: ['kind:local-authority'] }] },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'non-sensitive category not listed (no wildcard)',
    request: { dataCategories: ['medications'] },
    outcome: 'deny',
    denied: { medications: ['no-agreement'] },
  },
  {
    name: 'draft agreement',
    facts: { agreements: [{ ...PUBLIC_TASK, status: 'draft' }] },
    ...deny('agreement-not-active'),
  },
  {
    name: 'suspended agreement',
    facts: { agreements: [{ ...PUBLIC_TASK, status: 'suspended' }] },
    ...deny('agreement-not-active'),
  },
  {
    name: 'agreement ended (validUntil is exclusive)',
    facts: { agreements: [{ ...PUBLIC_TASK, validUntil: AT }] },
    ...deny('agreement-not-active'),
  },
  {
    name: 'agreement not yet in force',
    facts: { agreements: [{ ...PUBLIC_TASK, validFrom: '2026-12-01T00:00:00.000Z' }] },
    ...deny('agreement-not-active'),
  },
  {
    name: "agreement not permitting the user's role",
    facts: { user: { ...USER, roles: ['caldicott_guardian'] } },
    ...deny('role-not-permitted'),
  },
  {
    name: 'sensitive category not named by the agreement',
    request: { dataCategories: ['safeguarding'] },
    outcome: 'deny',
    denied: { safeguarding: ['sensitive-not-named'] },
  },
  {
    name: 'sensitive category named by the agreement',
    request: { dataCategories: ['safeguarding'] },
    facts: { agreements: [{ ...PUBLIC_TASK, dataCategories: ['care-plan', 'safeguarding'] }] },
    outcome: 'permit',
    permitted: ['safeguarding'],
  },
  {
    name: 'processing outside the UK without safeguards',
    facts: { organisation: { ...ORG, country: 'FR' } },
    ...deny('outside-uk'),
  },
  {
    name: 'processing outside the UK with safeguards recorded',
    facts: {
      organisation: { ...ORG, country: 'FR' },
      agreements: [{ ...PUBLIC_TASK, internationalTransferSafeguards: 'IDTA 2022, ref T-9' }],
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'outside-uk takes precedence over an inactive agreement with safeguards',
    facts: {
      organisation: { ...ORG, country: 'FR' },
      agreements: [
        {
          ...PUBLIC_TASK,
          agreementId: 'dsa-draft',
          status: 'draft',
          internationalTransferSafeguards: 'IDTA',
        },
        PUBLIC_TASK,
      ],
    },
    ...deny('outside-uk'),
  },
  {
    name: 'an inactive covering agreement takes precedence over a role mismatch',
    facts: {
      agreements: [
        { ...PUBLIC_TASK, status: 'suspended' },
        { ...PUBLIC_TASK, agreementId: 'dsa-leads', roles: ['safeguarding_lead'] },
      ],
    },
    ...deny('agreement-not-active'),
  },
  {
    name: 'partial: care-plan permitted, safeguarding not named',
    request: { dataCategories: ['care-plan', 'safeguarding', 'assessments'] },
    outcome: 'partial',
    permitted: ['care-plan', 'assessments'],
    denied: { safeguarding: ['sensitive-not-named'] },
  },
  {
    name: 'repeated categories are decided once, in request order',
    request: { dataCategories: ['assessments', 'care-plan', 'assessments'] },
    outcome: 'permit',
    permitted: ['assessments', 'care-plan'],
  },
  { name: 'no categories requested is a denial', request: { dataCategories: [] }, outcome: 'deny' },

  // Step 4: legal basis — refusals and objections (every basis)
  {
    name: 'refusal covering the share',
    facts: { consent: consentState({ consents: [REFUSAL] }) },
    ...deny('consent-refused'),
  },
  {
    name: 'refusal naming the organisation kind',
    facts: {
      consent: consentState({ consents: [{ ...REFUSAL, recipients: ['kind:local-authority'] }] }),
    },
    ...deny('consent-refused'),
  },
  {
    name: 'withdrawn refusal does not count',
    facts: {
      consent: consentState({
        consents: [{ ...REFUSAL, withdrawnAt: '2026-11-01T00:00:00.000Z' }],
      }),
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'refusal withdrawn only later still counts',
    facts: {
      consent: consentState({
        consents: [{ ...REFUSAL, withdrawnAt: '2026-11-30T00:00:00.000Z' }],
      }),
    },
    ...deny('consent-refused'),
  },
  {
    name: 'expired refusal does not count',
    facts: {
      consent: consentState({ consents: [{ ...REFUSAL, validUntil: '2026-06-01T00:00:00.000Z' }] }),
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'refusal of another category does not count',
    facts: {
      consent: consentState({ consents: [{ ...REFUSAL, dataCategories: ['assessments'] }] }),
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'refusal for another recipient does not count',
    facts: { consent: consentState({ consents: [{ ...REFUSAL, recipients: ['RX1'] }] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'pending objection restricts processing',
    facts: { consent: consentState({ objections: [OBJECTION] }) },
    ...deny('objection-pending'),
  },
  {
    name: 'upheld objection',
    facts: { consent: consentState({ objections: [{ ...OBJECTION, status: 'upheld' }] }) },
    ...deny('objection-upheld'),
  },
  {
    name: 'overruled objection does not count',
    facts: { consent: consentState({ objections: [{ ...OBJECTION, status: 'overruled' }] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'withdrawn objection does not count',
    facts: { consent: consentState({ objections: [{ ...OBJECTION, status: 'withdrawn' }] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'objection to another purpose does not count',
    facts: { consent: consentState({ objections: [{ ...OBJECTION, purposes: ['research'] }] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'refusal, upheld and pending objections are all reported',
    facts: {
      consent: consentState({
        consents: [REFUSAL],
        objections: [
          { ...OBJECTION, objectionId: 'o-2', status: 'pending' },
          { ...OBJECTION, status: 'upheld' },
        ],
      }),
    },
    ...deny('consent-refused', 'objection-upheld', 'objection-pending'),
  },

  // Step 4: legal basis — consent-based agreements
  {
    name: 'consent-based agreement with a granted consent',
    facts: { agreements: [CONSENT_BASED], consent: consentState({ consents: [CONSENT] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'consent-based agreement with a consent naming the organisation kind',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, recipients: ['kind:local-authority'] }] }),
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'consent-based agreement without any consent',
    facts: { agreements: [CONSENT_BASED] },
    ...deny('no-consent'),
  },
  {
    name: 'consent-based agreement, consent to another recipient',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, recipients: ['kind:nhs-trust'] }] }),
    },
    ...deny('no-consent'),
  },
  {
    name: 'public task needs no consent',
    facts: { consent: consentState({ consents: [] }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'consent withdrawn before the request',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({
        consents: [{ ...CONSENT, withdrawnAt: '2026-11-20T00:00:00.000Z' }],
      }),
    },
    ...deny('consent-withdrawn'),
  },
  {
    name: 'consent withdrawn at the very instant of the request',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, withdrawnAt: AT }] }),
    },
    ...deny('consent-withdrawn'),
  },
  {
    name: 'consent withdrawn after the request instant still counts',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({
        consents: [{ ...CONSENT, withdrawnAt: '2026-11-24T10:00:00.001Z' }],
      }),
    },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'consent expired',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, validUntil: '2026-11-01T00:00:00.000Z' }] }),
    },
    ...deny('consent-expired'),
  },
  {
    name: 'consent expiring at the request instant has expired',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, validUntil: AT }] }),
    },
    ...deny('consent-expired'),
  },
  {
    name: 'consent not yet valid',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ consents: [{ ...CONSENT, validFrom: '2026-12-01T00:00:00.000Z' }] }),
    },
    ...deny('no-consent'),
  },
  {
    name: 'withdrawal is reported before expiry',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({
        consents: [
          { ...CONSENT, consentId: 'c-old', validUntil: '2026-06-01T00:00:00.000Z' },
          { ...CONSENT, withdrawnAt: '2026-11-20T00:00:00.000Z' },
        ],
      }),
    },
    ...deny('consent-withdrawn'),
  },
  {
    name: 'a refusal blocks even with a granted consent',
    facts: { agreements: [CONSENT_BASED], consent: consentState({ consents: [CONSENT, REFUSAL] }) },
    ...deny('consent-refused'),
  },
  {
    name: 'sensitive category not named by the consent',
    request: { dataCategories: ['mental-health'] },
    facts: { agreements: [CONSENT_BASED], consent: consentState({ consents: [CONSENT] }) },
    outcome: 'deny',
    denied: { 'mental-health': ['sensitive-not-named'] },
  },
  {
    name: 'sensitive category named by the consent',
    request: { dataCategories: ['mental-health'] },
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({
        consents: [{ ...CONSENT, dataCategories: ['care-plan', 'mental-health'] }],
      }),
    },
    outcome: 'permit',
    permitted: ['mental-health'],
  },
  {
    name: 'mixed categories under a consent-based agreement',
    request: { dataCategories: ['care-plan', 'mental-health'] },
    facts: { agreements: [CONSENT_BASED], consent: consentState({ consents: [CONSENT] }) },
    outcome: 'partial',
    permitted: ['care-plan'],
    denied: { 'mental-health': ['sensitive-not-named'] },
  },
  {
    name: 'the first candidate whose basis holds is used',
    facts: { agreements: [CONSENT_BASED, PUBLIC_TASK] },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'when no candidate holds, the first candidate’s reasons are reported',
    facts: {
      agreements: [CONSENT_BASED, PUBLIC_TASK],
      consent: consentState({ objections: [{ ...OBJECTION, status: 'upheld' }] }),
    },
    ...deny('objection-upheld', 'no-consent'),
  },

  // Step 4: legal basis — national data opt-out (secondary uses only)
  {
    name: 'opt-out blocks research',
    request: { purposeOfUse: 'research' },
    facts: { agreements: [RESEARCH], consent: consentState({ nationalOptOut: true }) },
    ...deny('national-data-opt-out'),
  },
  {
    name: 'opt-out blocks service planning',
    request: { purposeOfUse: 'service-planning' },
    facts: { agreements: [RESEARCH], consent: consentState({ nationalOptOut: true }) },
    ...deny('national-data-opt-out'),
  },
  {
    name: 'opt-out never applies to direct care',
    facts: { agreements: [RESEARCH], consent: consentState({ nationalOptOut: true }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'research without an opt-out',
    request: { purposeOfUse: 'research' },
    facts: { agreements: [RESEARCH] },
    ...PERMIT_CARE_PLAN,
  },

  // Step 4: stale consent replica
  {
    name: 'stale replica denies a public-task share',
    facts: { consent: consentState({ stale: true }) },
    ...deny('consent-state-stale'),
  },
  {
    name: 'stale replica denies a consent-based share even with a consent on record',
    facts: {
      agreements: [CONSENT_BASED],
      consent: consentState({ stale: true, consents: [CONSENT] }),
    },
    ...deny('consent-state-stale'),
  },
  {
    name: 'stale replica reports only staleness, not the stale refusal',
    facts: { consent: consentState({ stale: true, consents: [REFUSAL] }) },
    ...deny('consent-state-stale'),
  },
  {
    name: 'stale replica does not hide a missing agreement',
    facts: { agreements: [], consent: consentState({ stale: true }) },
    ...deny('no-agreement'),
  },

  // Safeguarding override
  {
    name: 'override permits without relationship, agreement or consent',
    request: { breakGlass: BREAK_GLASS, dataCategories: ['care-plan', 'safeguarding'] },
    facts: { relationships: [], agreements: [], consent: consentState({ consents: [REFUSAL] }) },
    outcome: 'permit',
    permitted: ['care-plan', 'safeguarding'],
  },
  {
    name: 'override overrides a stale replica',
    request: { breakGlass: BREAK_GLASS },
    facts: { consent: consentState({ stale: true }) },
    ...PERMIT_CARE_PLAN,
  },
  {
    name: 'override is not available to a practitioner',
    request: { breakGlass: BREAK_GLASS, requesterUserId: PRACTITIONER.userId },
    facts: { user: PRACTITIONER, relationships: [] },
    ...deny('no-legitimate-relationship', 'break-glass-not-permitted'),
  },
  {
    name: 'a practitioner asking for the override is still permitted what they may see normally',
    request: {
      breakGlass: BREAK_GLASS,
      requesterUserId: PRACTITIONER.userId,
      dataCategories: ['care-plan', 'safeguarding'],
    },
    facts: {
      user: PRACTITIONER,
      relationships: [{ ...RELATIONSHIP, userId: PRACTITIONER.userId }],
    },
    outcome: 'partial',
    permitted: ['care-plan'],
    denied: { safeguarding: ['sensitive-not-named', 'break-glass-not-permitted'] },
  },
  {
    name: 'open window permits a later request',
    request: { dataCategories: ['care-plan', 'safeguarding'] },
    facts: { relationships: [], breakGlassWindows: [WINDOW] },
    outcome: 'permit',
    permitted: ['care-plan', 'safeguarding'],
  },
  {
    name: 'window that closed does not permit',
    facts: {
      ...NO_RELATIONSHIP,
      breakGlassWindows: [{ ...WINDOW, opensAt: '2026-11-23T08:00:00.000Z', closesAt: AT }],
    },
    ...deny('no-legitimate-relationship'),
  },
  {
    name: 'window not yet open does not permit',
    facts: {
      ...NO_RELATIONSHIP,
      breakGlassWindows: [{ ...WINDOW, opensAt: '2026-11-24T11:00:00.000Z' }],
    },
    ...deny('no-legitimate-relationship'),
  },
];

describe('evaluate', () => {
  describe.each(ROWS)('$name', (row) => {
    const decision = when(row);

    it(`is ${row.outcome}`, () => {
      expect(decision.outcome).toBe(row.outcome);
    });

    it('permits exactly the expected categories, in request order', () => {
      expect(decision.permitted).toEqual(row.permitted ?? []);
    });

    it('denies exactly the expected categories with the expected reason codes', () => {
      expect(deniedCodes(decision)).toEqual(row.denied ?? {});
    });

    it('audits, records the consent and policy versions and explains in plain English', () => {
      expect(decision.obligations[0]).toBe('audit');
      expect(new Set(decision.obligations).size).toBe(decision.obligations.length);
      expect(decision.consentVersion).toBe(FACTS.consent.streamVersion);
      expect(decision.policyVersion).toBe(DEFAULT_POLICY_CONFIG.policyVersion);
      expect(decision.explanation).not.toBe('');
      for (const d of decision.denied) {
        for (const r of d.reasons) expect(r.message).toMatch(/^[A-Z].*\.$/);
      }
    });
  });

  it('the table covers every reason code', () => {
    const covered = new Set(ROWS.flatMap((row) => Object.values(row.denied ?? {}).flat()));
    expect([...REASON_CODES].filter((code) => !covered.has(code))).toEqual([]);
  });

  describe('legal basis, obligations and explanation', () => {
    it('a normal permit names the agreement, its articles and statutes', () => {
      const decision = when({ request: { dataCategories: ['care-plan', 'assessments'] } });
      expect(decision).toEqual({
        outcome: 'permit',
        permitted: ['care-plan', 'assessments'],
        denied: [],
        legalBasis: {
          article6: 'UK-GDPR-6-1-e',
          article9: 'UK-GDPR-9-2-h',
          statutes: ['hsc-sqa-2015-s251b'],
          agreementIds: ['dsa-public-task'],
          source: 'agreement',
        },
        obligations: ['audit'],
        consentVersion: 7,
        policyVersion: '2026-11-24.1',
        breakGlassUsed: false,
        breakGlassWindowId: null,
        explanation:
          'Permitted: care-plan, assessments for direct care under agreement dsa-public-task (UK-GDPR-6-1-e, UK-GDPR-9-2-h).',
      });
    });

    it('lists every agreement used, in request order, with the first one’s articles', () => {
      const decision = when({
        request: { dataCategories: ['mental-health', 'assessments', 'care-plan'] },
        facts: {
          agreements: [CONSENT_BASED, PUBLIC_TASK],
          consent: consentState({
            consents: [{ ...CONSENT, dataCategories: ['care-plan', 'mental-health'] }],
          }),
        },
      });
      expect(decision.permitted).toEqual(['mental-health', 'assessments', 'care-plan']);
      expect(decision.legalBasis).toEqual({
        article6: 'UK-GDPR-6-1-a',
        article9: 'UK-GDPR-9-2-a',
        statutes: [],
        agreementIds: ['dsa-consent', 'dsa-public-task'],
        source: 'agreement',
      });
    });

    it('a partial decision explains what was permitted and why the rest was denied', () => {
      const decision = when({ request: { dataCategories: ['safeguarding', 'care-plan'] } });
      expect(decision.outcome).toBe('partial');
      expect(decision.explanation).toBe(
        'Permitted: care-plan for direct care under agreement dsa-public-task (UK-GDPR-6-1-e, UK-GDPR-9-2-h). ' +
          'Denied: safeguarding — This is a sensitive data category and the data sharing agreement does not name it explicitly; sensitive categories are never implied.',
      );
    });

    it('a denial has no legal basis, is still audited, and groups categories with the same reasons', () => {
      const decision = when({
        request: { dataCategories: ['care-plan', 'assessments'] },
        facts: { user: null },
      });
      expect(decision.legalBasis).toEqual({
        article6: null,
        article9: null,
        statutes: [],
        agreementIds: [],
        source: 'none',
      });
      expect(decision.obligations).toEqual(['audit']);
      expect(decision.explanation).toBe(
        'Denied: care-plan, assessments — The requester is not a registered user of the gateway.',
      );
    });

    it('an unknown organisation is named as such', () => {
      const decision = when({ facts: { organisation: null } });
      expect(decision.denied[0]?.reasons[0]?.message).toBe(
        'The recipient organisation is not known to the gateway.',
      );
    });

    it('the overriding statute becomes the legal basis and obliges notification and IG review', () => {
      const decision = when({
        request: { breakGlass: BREAK_GLASS, dataCategories: ['care-plan', 'safeguarding'] },
        facts: { relationships: [] },
      });
      expect(decision.outcome).toBe('permit');
      expect(decision.breakGlassUsed).toBe(true);
      expect(decision.breakGlassWindowId).toBeNull();
      expect(decision.obligations).toEqual(['audit', 'notify-subject', 'ig-review']);
      expect(decision.legalBasis).toEqual({
        article6: null,
        article9: null,
        statutes: ['care-act-2014-s42'],
        agreementIds: [],
        source: 'break-glass',
      });
      expect(decision.explanation).toContain('safeguarding override');
      expect(decision.explanation).toContain('Care Act 2014 s.42');
      expect(decision.explanation).not.toContain(BREAK_GLASS.reason);
    });

    it('categories permitted normally keep their agreement alongside the override', () => {
      const decision = when({
        request: { breakGlass: BREAK_GLASS, dataCategories: ['care-plan', 'safeguarding'] },
      });
      expect(decision.permitted).toEqual(['care-plan', 'safeguarding']);
      expect(decision.breakGlassUsed).toBe(true);
      expect(decision.legalBasis).toEqual({
        article6: null,
        article9: null,
        statutes: ['care-act-2014-s42'],
        agreementIds: ['dsa-public-task'],
        source: 'break-glass',
      });
      expect(decision.explanation).toMatch(
        /^Permitted: care-plan for direct care under agreement dsa-public-task .* Permitted: safeguarding for direct care under the safeguarding override/,
      );
    });

    it('an override nothing needed is not used and owes no notification', () => {
      const decision = when({ request: { breakGlass: BREAK_GLASS } });
      expect(decision.outcome).toBe('permit');
      expect(decision.breakGlassUsed).toBe(false);
      expect(decision.obligations).toEqual(['audit']);
      expect(decision.legalBasis.source).toBe('agreement');
    });

    it('an override refused for eligibility is not used', () => {
      const decision = when({
        request: { breakGlass: BREAK_GLASS },
        facts: { user: { ...USER, igTrainingCompletedOn: '2025-01-01' } },
      });
      expect(decision.breakGlassUsed).toBe(false);
      expect(decision.obligations).toEqual(['audit']);
      expect(decision.legalBasis.source).toBe('none');
    });

    it('a practitioner refused the override owes no notification', () => {
      const decision = when({
        request: { breakGlass: BREAK_GLASS, requesterUserId: PRACTITIONER.userId },
        facts: { user: PRACTITIONER, relationships: [] },
      });
      expect(decision.breakGlassUsed).toBe(false);
      expect(decision.obligations).toEqual(['audit']);
    });

    it('a safeguarding lead may use the override', () => {
      const decision = when({
        request: { breakGlass: BREAK_GLASS },
        facts: { user: { ...USER, roles: ['safeguarding_lead'] }, relationships: [] },
      });
      expect(decision.outcome).toBe('permit');
      expect(decision.breakGlassUsed).toBe(true);
    });

    it('a request inside an open window relies on it without a new override', () => {
      const decision = when({
        request: { dataCategories: ['care-plan', 'safeguarding'] },
        facts: {
          breakGlassWindows: [
            { ...WINDOW, decisionId: 'dec-earlier', closesAt: '2026-11-24T12:00:00.000Z' },
            WINDOW,
          ],
        },
      });
      expect(decision.permitted).toEqual(['care-plan', 'safeguarding']);
      expect(decision.breakGlassUsed).toBe(false);
      expect(decision.breakGlassWindowId).toBe('dec-override-1');
      expect(decision.obligations).toEqual(['audit']);
      expect(decision.legalBasis).toEqual({
        article6: null,
        article9: null,
        statutes: ['care-act-2014-s42'],
        agreementIds: ['dsa-public-task'],
        source: 'break-glass',
      });
      expect(decision.explanation).toContain('window opened by decision dec-override-1');
    });

    it('an open window nothing needed is not recorded as relied on', () => {
      const decision = when({ facts: { breakGlassWindows: [WINDOW] } });
      expect(decision.breakGlassWindowId).toBeNull();
      expect(decision.legalBasis.source).toBe('agreement');
    });

    it('a new override takes precedence over an open window', () => {
      const decision = when({
        request: {
          breakGlass: { reason: 'New concern', statutoryBasis: 'children-act-1989-s47' },
        },
        facts: { relationships: [], breakGlassWindows: [WINDOW] },
      });
      expect(decision.breakGlassUsed).toBe(true);
      expect(decision.breakGlassWindowId).toBeNull();
      expect(decision.obligations).toEqual(['audit', 'notify-subject', 'ig-review']);
      expect(decision.legalBasis.statutes).toEqual(['children-act-1989-s47']);
    });
  });

  describe('determinism', () => {
    it('the same inputs give deep-equal decisions (replay)', () => {
      const given: Given = {
        request: {
          breakGlass: BREAK_GLASS,
          dataCategories: ['safeguarding', 'care-plan', 'case-notes'],
        },
        facts: {
          agreements: [CONSENT_BASED, PUBLIC_TASK],
          consent: consentState({ consents: [CONSENT], objections: [OBJECTION] }),
        },
      };
      expect(when(given)).toEqual(when(given));
    });

    it('does not mutate its inputs', () => {
      const original: DecisionRequest = { ...REQUEST, dataCategories: ['care-plan', 'care-plan'] };
      const request = structuredClone(original);
      const facts = structuredClone(FACTS);
      evaluate(request, facts, DEFAULT_POLICY_CONFIG);
      expect(request).toEqual(original);
      expect(facts).toEqual(FACTS);
    });

    it('rejects an unreadable instant rather than deciding on it', () => {
      expect(() => when({ request: { at: 'yesterday' } })).toThrow(RangeError);
    });
  });

  it('has the default policy configuration', () => {
    expect(DEFAULT_POLICY_CONFIG).toEqual({
      policyVersion: '2026-11-24.1',
      breakGlassRoles: ['safeguarding_lead', 'social_worker'],
      recordAccessRoles: [
        'social_worker',
        'practitioner',
        'safeguarding_lead',
        'caldicott_guardian',
      ],
      trainingValidityMonths: 12,
    });
  });
});
