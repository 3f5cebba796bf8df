import type {
  Article6Basis,
  Article9Condition,
  DataCategory,
  OrganisationKind,
  Purpose,
  Role,
  Statute,
} from '#common';

/** Reason codes of a denial (API.md "Reason codes"); stable strings, never renamed. */
export const REASON_CODES = [
  'requester-inactive',
  'training-expired',
  'role-not-permitted',
  'no-legitimate-relationship',
  'no-agreement',
  'agreement-not-active',
  'sensitive-not-named',
  'no-consent',
  'consent-refused',
  'consent-withdrawn',
  'consent-expired',
  'objection-upheld',
  'objection-pending',
  'national-data-opt-out',
  'outside-uk',
  'consent-state-stale',
  'break-glass-not-permitted',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface Reason {
  code: ReasonCode;
  /** Plain English, naming no personal data beyond identifiers. */
  message: string;
}

export type Obligation = 'audit' | 'notify-subject' | 'ig-review';

/** What is asked: who, about whom, for what, which categories, at which instant. */
export interface DecisionRequest {
  subjectId: string;
  purposeOfUse: Purpose;
  dataCategories: DataCategory[];
  /** The user whose access is decided (the caller, or `onBehalfOf` for a system caller). */
  requesterUserId: string;
  /** Organisation that receives the data; the requester's own organisation when not given. */
  recipientOrg: string | null;
  breakGlass: { reason: string; statutoryBasis: Statute } | null;
  /** ISO 8601 instant the decision is made at; every validity window is read at this instant. */
  at: string;
}

export interface UserFacts {
  userId: string;
  org: string;
  roles: Role[];
  teams: string[];
  /** ISO date (YYYY-MM-DD) of the last IG training, or null if never trained. */
  igTrainingCompletedOn: string | null;
  /** ISO date the account ends (inclusive), or null for no end. */
  accountEndsOn: string | null;
}

export interface OrganisationFacts {
  odsCode: string;
  kind: OrganisationKind;
  /** ISO 3166-1 alpha-2 country where the organisation processes data; `GB` is the UK. */
  country: string;
}

export interface AgreementFacts {
  agreementId: string;
  version: number;
  /** ODS codes, or `kind:<organisation-kind>`. */
  parties: string[];
  roles: Role[];
  purposes: Purpose[];
  dataCategories: DataCategory[];
  legalBasis: { article6: Article6Basis; article9: Article9Condition | null; statutes: Statute[] };
  validFrom: string;
  validUntil: string | null;
  status: 'draft' | 'active' | 'suspended';
  internationalTransferSafeguards: string | null;
}

export interface RelationshipFacts {
  relationshipId: string;
  userId: string | null;
  teamId: string | null;
  subjectId: string;
  type: string;
  validFrom: string;
  validUntil: string | null;
}

export interface AccessGrantFacts {
  grantId: string;
  userId: string;
  purpose: Purpose;
  validUntil: string;
}

/** A consent or refusal as the gateway's replica holds it. */
export interface ReplicaConsent {
  consentId: string;
  decision: 'granted' | 'refused';
  purposes: Purpose[];
  /** ODS codes or `kind:<organisation-kind>`. */
  recipients: string[];
  dataCategories: DataCategory[];
  validFrom: string;
  validUntil: string | null;
  /** When it was withdrawn, or null. */
  withdrawnAt: string | null;
}

export interface ReplicaObjection {
  objectionId: string;
  status: 'pending' | 'upheld' | 'overruled' | 'withdrawn';
  purposes: Purpose[];
  recipients: string[];
  dataCategories: DataCategory[];
}

/** The person's consent state from the replica, at the stream version it was read at. */
export interface ConsentFacts {
  streamVersion: number;
  consents: ReplicaConsent[];
  objections: ReplicaObjection[];
  nationalOptOut: boolean;
  /** True when the replica is older than the configured bound: consent cannot be relied on. */
  stale: boolean;
}

/** A safeguarding override window already open for this requester and person. */
export interface BreakGlassWindowFacts {
  decisionId: string;
  statute: Statute;
  opensAt: string;
  closesAt: string;
}

/** Everything a decision reads, loaded before evaluation so evaluation is pure. */
export interface DecisionFacts {
  /** null when the requester is not a registered user. */
  user: UserFacts | null;
  /** The recipient organisation (the requester's own unless another was named); null if unknown. */
  organisation: OrganisationFacts | null;
  /** Agreements naming the recipient organisation (by ODS code or kind), whatever their status. */
  agreements: AgreementFacts[];
  /** Relationships of the user or one of their teams with the person. */
  relationships: RelationshipFacts[];
  /** Access grants of the user. */
  accessGrants: AccessGrantFacts[];
  consent: ConsentFacts;
  /** Open override windows for this requester and person. */
  breakGlassWindows: BreakGlassWindowFacts[];
}

export interface PolicyConfig {
  policyVersion: string;
  /** Roles that may use the safeguarding override (default safeguarding_lead, social_worker). */
  breakGlassRoles: Role[];
  /** Roles that may see records at all (requester eligibility, step 1). */
  recordAccessRoles: Role[];
  /** IG training counts for this many months (12). */
  trainingValidityMonths: number;
}

export interface LegalBasisUsed {
  article6: Article6Basis | null;
  article9: Article9Condition | null;
  statutes: Statute[];
  /** Agreements whose basis was used, in order. */
  agreementIds: string[];
  /** `agreement` normally; `break-glass` when the override's statute is the basis. */
  source: 'agreement' | 'break-glass' | 'none';
}

export interface Decision {
  outcome: 'permit' | 'partial' | 'deny';
  permitted: DataCategory[];
  denied: { category: DataCategory; reasons: Reason[] }[];
  legalBasis: LegalBasisUsed;
  obligations: Obligation[];
  consentVersion: number;
  policyVersion: string;
  /** Whether this decision used the safeguarding override (opening a window). */
  breakGlassUsed: boolean;
  /** The window this decision relied on, when it was decided inside an earlier override's window. */
  breakGlassWindowId: string | null;
  /** Plain English: what was decided and why. */
  explanation: string;
}
