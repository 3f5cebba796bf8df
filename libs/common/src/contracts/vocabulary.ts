/** Purposes of use a request can name (API.md "Vocabulary"). */
export const PURPOSES = [
  'direct-care',
  'safeguarding',
  'emergency',
  'care-quality-audit',
  'service-planning',
  'research',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Secondary uses: the national data opt-out applies to these and only these. */
export const SECONDARY_PURPOSES: readonly Purpose[] = ['service-planning', 'research'];

/** Whether the national data opt-out applies to a purpose. */
export function isSecondaryPurpose(purpose: Purpose): boolean {
  return SECONDARY_PURPOSES.includes(purpose);
}

/**
 * Data categories of a care record. Sensitive categories must be named explicitly by an
 * agreement or consent; a broad grant never implies them (DESIGN.md, decision step 3).
 */
export const DATA_CATEGORIES = {
  demographics: { sensitive: false },
  contacts: { sensitive: false },
  'care-plan': { sensitive: false },
  assessments: { sensitive: false },
  'case-notes': { sensitive: false },
  medications: { sensitive: false },
  financial: { sensitive: false },
  safeguarding: { sensitive: true },
  'mental-health': { sensitive: true },
  'sexual-health': { sensitive: true },
  'substance-misuse': { sensitive: true },
  'criminal-justice': { sensitive: true },
  'third-party-information': { sensitive: true },
} as const satisfies Record<string, { sensitive: boolean }>;
export type DataCategory = keyof typeof DATA_CATEGORIES;
export const DATA_CATEGORY_NAMES = Object.keys(DATA_CATEGORIES) as DataCategory[];

/** Whether a data category is special-category / sensitive and must be named explicitly. */
export function isSensitiveCategory(category: DataCategory): boolean {
  return DATA_CATEGORIES[category].sensitive;
}

/** UK GDPR Article 6 lawful bases. */
export const ARTICLE_6_BASES = [
  'UK-GDPR-6-1-a',
  'UK-GDPR-6-1-c',
  'UK-GDPR-6-1-d',
  'UK-GDPR-6-1-e',
] as const;
export type Article6Basis = (typeof ARTICLE_6_BASES)[number];

/** UK GDPR Article 9 conditions for special-category data. */
export const ARTICLE_9_CONDITIONS = [
  'UK-GDPR-9-2-a',
  'UK-GDPR-9-2-c',
  'UK-GDPR-9-2-g',
  'UK-GDPR-9-2-h',
] as const;
export type Article9Condition = (typeof ARTICLE_9_CONDITIONS)[number];

export const LEGAL_BASES = [...ARTICLE_6_BASES, ...ARTICLE_9_CONDITIONS] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** Consent is the Article 6(1)(a) basis; agreements on it need a person's consent to share. */
export const CONSENT_BASIS: Article6Basis = 'UK-GDPR-6-1-a';

/** Statutes that can ground a share or a safeguarding override. */
export const STATUTES = {
  'care-act-2014-s42': 'Care Act 2014 s.42 (safeguarding enquiry)',
  'care-act-2014-s45': 'Care Act 2014 s.45 (supply of information to a Safeguarding Adults Board)',
  'children-act-1989-s47': 'Children Act 1989 s.47 (child protection enquiry)',
  'hsc-sqa-2015-s251b':
    'Health and Social Care (Safety and Quality) Act 2015 s.251B (duty to share)',
  'crime-disorder-1998-s115': 'Crime and Disorder Act 1998 s.115',
} as const;
export type Statute = keyof typeof STATUTES;
export const STATUTE_CODES = Object.keys(STATUTES) as Statute[];

/** Roles carried in the `roles` claim of a bearer token. */
export const ROLES = [
  'social_worker',
  'practitioner',
  'safeguarding_lead',
  'ig_officer',
  'caldicott_guardian',
  'admin',
  'system',
  'service_user',
] as const;
export type Role = (typeof ROLES)[number];

/** Roles held by staff (everyone but the person the record is about and machine callers). */
export const STAFF_ROLES: readonly Role[] = [
  'social_worker',
  'practitioner',
  'safeguarding_lead',
  'ig_officer',
  'caldicott_guardian',
  'admin',
];

/** Kinds of organisation; consent recipients may name a kind as `kind:<org-kind>`. */
export const ORGANISATION_KINDS = [
  'local-authority',
  'nhs-trust',
  'gp-practice',
  'care-provider',
  'police',
  'housing',
  'education',
  'voluntary-sector',
  'research-body',
  'other',
] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

/** Whether a value is one of a vocabulary's members (narrows the type). */
export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}
