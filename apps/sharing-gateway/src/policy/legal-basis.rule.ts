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
import { inForce } from './validity.rule';

type Scope = Pick<ReplicaConsent, 'purposes' | 'recipients' | 'dataCategories'>;

/** How a consent, refusal or objection is matched against the share being decided. */
interface ScopeMatch {
  /** Names the purpose and the recipient (its ODS code or `kind:<organisation-kind>`). */
  toRecipient: (scope: Scope) => boolean;
  /** Names the purpose and recipient and lists the category itself; nothing is implied. */
  covers: (scope: Scope) => boolean;
}

/**
 * Step 4: whether the person's choices allow sharing one category under one agreement. Every
 * applicable reason is reported (a refusal and an upheld objection both show), except on a stale
 * replica, where no consent-derived answer can be trusted either way.
 */
export function legalBasisReasons(
  agreement: AgreementFacts,
  category: DataCategory,
  purpose: Purpose,
  organisation: OrganisationFacts,
  consent: ConsentFacts,
  at: Date,
): Reason[] {
  // DESIGN.md: deny with a clear reason rather than decide on stale consent state, whatever the
  // basis, because a refusal or objection recorded since may be missing from the replica.
  if (consent.stale) return [reason('consent-state-stale')];

  const toRecipient = (scope: Scope) =>
    scope.purposes.includes(purpose) &&
    (scope.recipients.includes(organisation.odsCode) ||
      scope.recipients.includes(`kind:${organisation.kind}`));
  const covers = (scope: Scope) => toRecipient(scope) && scope.dataCategories.includes(category);
  const match: ScopeMatch = { toRecipient, covers };

  const codes: ReasonCode[] = [];
  // The national data opt-out applies to secondary uses only, never to direct care.
  if (isSecondaryPurpose(purpose) && consent.nationalOptOut) codes.push('national-data-opt-out');
  if (consent.consents.some((c) => c.decision === 'refused' && inEffect(c, at) && covers(c))) {
    codes.push('consent-refused');
  }
  for (const code of objectionCodes(consent.objections.filter(covers))) codes.push(code);

  const reasons = codes.map((code) => reason(code));
  // Article 6(1)(a): the share rests on the person's own consent, so one must be in effect.
  if (agreement.legalBasis.article6 === CONSENT_BASIS) {
    const granted = consent.consents.filter((c) => c.decision === 'granted');
    const missing = missingConsent(granted, match, category, at);
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
function missingConsent(
  granted: ReplicaConsent[],
  match: ScopeMatch,
  category: DataCategory,
  at: Date,
): Reason | null {
  const covering = granted.filter(match.covers);
  if (covering.some((c) => inEffect(c, at))) return null;
  if (covering.some((c) => c.withdrawnAt !== null && Date.parse(c.withdrawnAt) <= at.getTime())) {
    return reason('consent-withdrawn');
  }
  if (covering.some((c) => c.validUntil !== null && Date.parse(c.validUntil) <= at.getTime())) {
    return reason('consent-expired');
  }
  const inEffectWithoutCategory = granted.some(
    (c) => inEffect(c, at) && match.toRecipient(c) && !c.dataCategories.includes(category),
  );
  if (isSensitiveCategory(category) && inEffectWithoutCategory) {
    return reason(
      'sensitive-not-named',
      "This is a sensitive data category and the person's consent does not name it explicitly; sensitive categories are never implied.",
    );
  }
  return reason('no-consent');
}

/** A consent or refusal counts inside its validity period and until the instant it is withdrawn. */
function inEffect(c: ReplicaConsent, at: Date): boolean {
  return (
    inForce(at, c.validFrom, c.validUntil) &&
    (c.withdrawnAt === null || Date.parse(c.withdrawnAt) > at.getTime())
  );
}
