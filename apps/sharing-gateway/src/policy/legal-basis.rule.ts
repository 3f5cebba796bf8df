import {
  CONSENT_BASIS,
  isSecondaryPurpose,
  isSensitiveCategory,
  type DataCategory,
  type Purpose,
} from '#common';
import type {
  AgreementFacts,
  ConsentFacts,
  OrganisationFacts,
  Reason,
  ReasonCode,
  ReplicaConsent,
  ReplicaObjection,
} from './policy.types';
import { reason } from './reason.messages';
import { inForceAt, instant } from './validity.rule';

type Scope = Pick<ReplicaConsent, 'purposes' | 'recipients' | 'dataCategories'>;

/** A granted consent naming the purpose and recipient, with what of it depends on `at`. */
interface GrantedToRecipient {
  dataCategories: DataCategory[];
  inEffect: boolean;
  withdrawnBy: boolean;
  expiredBy: boolean;
}

/**
 * What of step 4 depends on neither the category nor the agreement, read once per request: the
 * person's choices naming this purpose and the recipient (its ODS code or
 * `kind:<organisation-kind>`), and whether each is in effect at `at`.
 */
export interface RequestConsent {
  stale: boolean;
  /** The national data opt-out applies: set, and the purpose is a secondary use. */
  optedOut: boolean;
  /** Categories of each refusal in effect naming the purpose and recipient. */
  refusals: DataCategory[][];
  objections: ReplicaObjection[];
  granted: GrantedToRecipient[];
}

export function consentForRequest(
  consent: ConsentFacts,
  purpose: Purpose,
  organisation: OrganisationFacts,
  at: number,
): RequestConsent {
  const kind = `kind:${organisation.kind}`;
  const toRecipient = (scope: Scope) =>
    scope.purposes.includes(purpose) &&
    (scope.recipients.includes(organisation.odsCode) || scope.recipients.includes(kind));
  const refusals: DataCategory[][] = [];
  const granted: GrantedToRecipient[] = [];
  for (const c of consent.consents) {
    if (!toRecipient(c)) continue;
    const inEffect = inEffectAt(c, at);
    if (c.decision === 'refused') {
      if (inEffect) refusals.push(c.dataCategories);
    } else if (c.decision === 'granted') {
      granted.push({
        dataCategories: c.dataCategories,
        inEffect,
        withdrawnBy: c.withdrawnAt !== null && instant(c.withdrawnAt) <= at,
        expiredBy: c.validUntil !== null && instant(c.validUntil) <= at,
      });
    }
  }
  return {
    stale: consent.stale,
    optedOut: isSecondaryPurpose(purpose) && consent.nationalOptOut,
    refusals,
    objections: consent.objections.filter(toRecipient),
    granted,
  };
}

/**
 * Step 4: whether the person's choices allow sharing one category under one agreement. Every
 * applicable reason is reported (a refusal and an upheld objection both show), except on a stale
 * replica, where no consent-derived answer can be trusted either way.
 */
export function legalBasisReasons(
  agreement: AgreementFacts,
  category: DataCategory,
  consent: RequestConsent,
): Reason[] {
  // DESIGN.md: deny with a clear reason rather than decide on stale consent state, whatever the
  // basis, because a refusal or objection recorded since may be missing from the replica.
  if (consent.stale) return [reason('consent-state-stale')];

  const reasons: Reason[] = [];
  // The national data opt-out applies to secondary uses only, never to direct care.
  if (consent.optedOut) reasons.push(reason('national-data-opt-out'));
  if (consent.refusals.some((categories) => categories.includes(category))) {
    reasons.push(reason('consent-refused'));
  }
  if (consent.objections.length > 0) {
    const objections = consent.objections.filter((o) => o.dataCategories.includes(category));
    for (const code of objectionCodes(objections)) reasons.push(reason(code));
  }
  // Article 6(1)(a): the share rests on the person's own consent, so one must be in effect.
  if (agreement.legalBasis.article6 === CONSENT_BASIS) {
    const missing = missingConsent(consent.granted, category);
    if (missing !== null) reasons.push(missing);
  }
  return reasons;
}

/**
 * UK GDPR Art 21 and 18(1)(d): an upheld objection stops the share, and a pending one restricts
 * processing until it is decided. Overruled and withdrawn objections no longer count.
 */
function objectionCodes(objections: ReplicaObjection[]): ReasonCode[] {
  const codes = new Set<ReasonCode>();
  for (const objection of objections) {
    switch (objection.status) {
      case 'upheld':
        codes.add('objection-upheld');
        break;
      case 'pending':
        codes.add('objection-pending');
        break;
      case 'overruled':
      case 'withdrawn':
        break;
      default: {
        const unknown: never = objection.status;
        return unknown;
      }
    }
  }
  return (['objection-upheld', 'objection-pending'] as const).filter((code) => codes.has(code));
}

/** The most specific reason no granted consent covering the share is in effect, or null. */
function missingConsent(granted: GrantedToRecipient[], category: DataCategory): Reason | null {
  let withdrawn = false;
  let expired = false;
  let inEffectWithoutCategory = false;
  for (const c of granted) {
    if (!c.dataCategories.includes(category)) {
      if (c.inEffect) inEffectWithoutCategory = true;
      continue;
    }
    if (c.inEffect) return null;
    if (c.withdrawnBy) withdrawn = true;
    if (c.expiredBy) expired = true;
  }
  if (withdrawn) return reason('consent-withdrawn');
  if (expired) return reason('consent-expired');
  if (isSensitiveCategory(category) && inEffectWithoutCategory) {
    return reason(
      'sensitive-not-named',
      "This is a sensitive data category and the person's consent does not name it explicitly; sensitive categories are never implied.",
    );
  }
  return reason('no-consent');
}

/** A consent or refusal counts inside its validity period and until the instant it is withdrawn. */
function inEffectAt(c: ReplicaConsent, at: number): boolean {
  return (
    inForceAt(at, c.validFrom, c.validUntil) &&
    (c.withdrawnAt === null || instant(c.withdrawnAt) > at)
  );
}
