import { STATUTES, type DataCategory, type Purpose, type Statute } from '#common';
import { agreementsForRequest, checkAgreements, type RequestAgreements } from './agreement.rule';
import { mayUseOverride, openWindow } from './break-glass.rule';
import { checkEligibility } from './eligibility.rule';
import { consentForRequest, legalBasisReasons, type RequestConsent } from './legal-basis.rule';
import { hasNeedToKnow } from './need-to-know.rule';
import type {
  AgreementFacts,
  BreakGlassWindowFacts,
  Decision,
  DecisionFacts,
  DecisionRequest,
  LegalBasisUsed,
  Obligation,
  OrganisationFacts,
  PolicyConfig,
  Reason,
  UserFacts,
} from './policy.types';
import { reason } from './reason.messages';
import { instant } from './validity.rule';

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  policyVersion: '2026-11-24.1',
  breakGlassRoles: ['safeguarding_lead', 'social_worker'],
  recordAccessRoles: ['social_worker', 'practitioner', 'safeguarding_lead', 'caldicott_guardian'],
  trainingValidityMonths: 12,
};

/** How one requested category was decided. */
type CategoryOutcome =
  | { kind: 'agreement'; category: DataCategory; agreement: AgreementFacts }
  | { kind: 'override'; category: DataCategory; statute: Statute }
  | { kind: 'window'; category: DataCategory; window: BreakGlassWindowFacts }
  | { kind: 'denied'; category: DataCategory; reasons: Reason[] };

/**
 * The policy decision: may this requester, for this purpose, see these categories of this
 * person's record at `request.at`, and on what legal basis. Pure and deterministic, so a stored
 * decision can be replayed from its inputs and shown to give the same answer. Deny overrides:
 * each category is permitted only when every step allows it (or an override covers it).
 */
export function evaluate(
  request: DecisionRequest,
  facts: DecisionFacts,
  config: PolicyConfig,
): Decision {
  const at = new Date(instant(request.at));
  if (Number.isNaN(at.getTime())) {
    throw new RangeError(`request.at is not an ISO 8601 instant: ${request.at}`);
  }
  const categories = [...new Set(request.dataCategories)];
  const eligibility = checkEligibility(facts, at, config);
  // Step 1 is never overridden: not by a new safeguarding override, nor by an open window.
  const outcomes: CategoryOutcome[] = eligibility.eligible
    ? decideCategories(categories, request, facts, config, at, eligibility)
    : categories.map((category) => ({
        kind: 'denied',
        category,
        reasons: eligibility.reasons.map((r) => ({ ...r })),
      }));
  return summarise(outcomes, request.purposeOfUse, facts, config);
}

function decideCategories(
  categories: DataCategory[],
  request: DecisionRequest,
  facts: DecisionFacts,
  config: PolicyConfig,
  at: Date,
  requester: { user: UserFacts; organisation: OrganisationFacts },
): CategoryOutcome[] {
  const { user, organisation } = requester;
  const breakGlass = request.breakGlass;
  const override = breakGlass !== null && mayUseOverride(user, config) ? breakGlass : null;
  // A new override is a fresh decision with its own review and notification, so it takes
  // precedence over a window an earlier override opened.
  const window = override === null ? openWindow(facts.breakGlassWindows, at) : null;
  const needToKnow: Reason[] = hasNeedToKnow(request, user, facts, at)
    ? []
    : [reason('no-legitimate-relationship')];
  // What does not depend on the category is worked out once, not once per category.
  const t = at.getTime();
  const agreements = agreementsForRequest(
    request.purposeOfUse,
    user,
    organisation,
    facts.agreements,
    t,
  );
  const consent = consentForRequest(facts.consent, request.purposeOfUse, organisation, t);

  return categories.map((category): CategoryOutcome => {
    const normal = decideNormally(category, agreements, consent);
    if (normal.agreement !== null && needToKnow.length === 0) {
      return { kind: 'agreement', category, agreement: normal.agreement };
    }
    // The override replaces steps 2-4 only: the named statute becomes the legal basis.
    if (override !== null) return { kind: 'override', category, statute: override.statutoryBasis };
    if (window !== null) return { kind: 'window', category, window };
    const reasons = [...needToKnow, ...normal.reasons];
    if (breakGlass !== null) reasons.push(reason('break-glass-not-permitted'));
    return { kind: 'denied', category, reasons };
  });
}

/**
 * Steps 3 and 4 for one category: the first candidate agreement whose legal basis holds, or the
 * reasons of the first candidate (or why there is no candidate at all).
 */
function decideNormally(
  category: DataCategory,
  agreements: RequestAgreements,
  consent: RequestConsent,
): { agreement: AgreementFacts; reasons: [] } | { agreement: null; reasons: Reason[] } {
  const check = checkAgreements(category, agreements);
  if (check.reason !== null) return { agreement: null, reasons: [check.reason] };
  let firstReasons: Reason[] | null = null;
  for (const agreement of check.candidates) {
    const reasons = legalBasisReasons(agreement, category, consent);
    if (reasons.length === 0) return { agreement, reasons: [] };
    firstReasons ??= reasons;
  }
  return { agreement: null, reasons: firstReasons ?? [] };
}

function summarise(
  outcomes: CategoryOutcome[],
  purpose: Purpose,
  facts: DecisionFacts,
  config: PolicyConfig,
): Decision {
  const permitted = outcomes.filter((o) => o.kind !== 'denied').map((o) => o.category);
  const denied = outcomes.flatMap((o) =>
    o.kind === 'denied' ? [{ category: o.category, reasons: o.reasons }] : [],
  );
  // An empty request permits nothing, so it is a denial (fail closed), not a vacuous permit.
  const outcome = permitted.length === 0 ? 'deny' : denied.length === 0 ? 'permit' : 'partial';
  const override = outcomes.find((o) => o.kind === 'override');
  const window = outcomes.find((o) => o.kind === 'window');
  const breakGlassUsed = override !== undefined;
  // Every decision is audited; a new override also obliges telling the person after the fact
  // and an IG review. Reading inside an earlier window owes neither again.
  const obligations: Obligation[] = breakGlassUsed
    ? ['audit', 'notify-subject', 'ig-review']
    : ['audit'];
  return {
    outcome,
    permitted,
    denied,
    legalBasis: legalBasisUsed(outcomes),
    obligations,
    consentVersion: facts.consent.streamVersion,
    policyVersion: config.policyVersion,
    breakGlassUsed,
    breakGlassWindowId: window?.kind === 'window' ? window.window.decisionId : null,
    explanation: explain(outcomes, purpose),
  };
}

/**
 * One basis for the whole decision. An override's statute wins because it is the basis that
 * must be reviewed; agreements used for the other categories are still listed.
 */
function legalBasisUsed(outcomes: CategoryOutcome[]): LegalBasisUsed {
  const agreements: AgreementFacts[] = [];
  let statute: Statute | null = null;
  for (const o of outcomes) {
    switch (o.kind) {
      case 'agreement':
        if (!agreements.some((a) => a.agreementId === o.agreement.agreementId)) {
          agreements.push(o.agreement);
        }
        break;
      case 'override':
        statute = o.statute;
        break;
      case 'window':
        statute = o.window.statute;
        break;
      case 'denied':
        break;
      default: {
        const unknown: never = o;
        return unknown;
      }
    }
  }
  const agreementIds = agreements.map((a) => a.agreementId);
  if (statute !== null) {
    return {
      article6: null,
      article9: null,
      statutes: [statute],
      agreementIds,
      source: 'break-glass',
    };
  }
  const first = agreements[0];
  if (first === undefined) {
    return { article6: null, article9: null, statutes: [], agreementIds: [], source: 'none' };
  }
  return {
    article6: first.legalBasis.article6,
    article9: first.legalBasis.article9,
    statutes: [...first.legalBasis.statutes],
    agreementIds,
    source: 'agreement',
  };
}

/**
 * Plain English, permitted groups first, then denied ones; categories sharing a basis or the
 * same reasons are listed together. The override's written reason is free text and may hold
 * personal data, so it is never repeated here.
 */
function explain(outcomes: CategoryOutcome[], purpose: Purpose): string {
  if (outcomes.length === 0) return 'Denied: no data categories were requested.';
  const purposeText = textOf(purpose);
  // Outcomes with the same key share one sentence, worded from the first of them.
  const groups = new Map<string, { outcome: CategoryOutcome; categories: DataCategory[] }>();
  for (const o of outcomes) {
    const key = groupKey(o);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { outcome: o, categories: [o.category] });
    else group.categories.push(o.category);
  }
  const permitted: string[] = [];
  const denied: string[] = [];
  for (const { outcome, categories } of groups.values()) {
    (outcome.kind === 'denied' ? denied : permitted).push(
      sentence(outcome, categories.join(', '), purposeText),
    );
  }
  return [...permitted, ...denied].join(' ');
}

const purposeTexts = new Map<Purpose, string>();

function textOf(purpose: Purpose): string {
  let text = purposeTexts.get(purpose);
  if (text === undefined) {
    text = purpose.replace(/-/g, ' ');
    purposeTexts.set(purpose, text);
  }
  return text;
}

function deniedMessages(o: { reasons: Reason[] }): string {
  return o.reasons.map((r) => r.message).join(' ');
}

function groupKey(o: CategoryOutcome): string {
  switch (o.kind) {
    case 'agreement':
      return `agreement:${o.agreement.agreementId}`;
    case 'override':
      return 'override';
    case 'window':
      return `window:${o.window.decisionId}`;
    case 'denied':
      return `denied:${deniedMessages(o)}`;
    default: {
      const unknown: never = o;
      return unknown;
    }
  }
}

function sentence(o: CategoryOutcome, categories: string, purposeText: string): string {
  switch (o.kind) {
    case 'agreement': {
      const { agreementId, legalBasis } = o.agreement;
      const bases = [legalBasis.article6, legalBasis.article9].filter((b) => b !== null);
      return `Permitted: ${categories} for ${purposeText} under agreement ${agreementId} (${bases.join(', ')}).`;
    }
    case 'override':
      return `Permitted: ${categories} for ${purposeText} under the safeguarding override, on the basis of ${STATUTES[o.statute]}; the person must be told after the fact and Information Governance must review the override.`;
    case 'window':
      return `Permitted: ${categories} for ${purposeText} within the safeguarding override window opened by decision ${o.window.decisionId}, on the basis of ${STATUTES[o.window.statute]}.`;
    case 'denied':
      return `Denied: ${categories} — ${deniedMessages(o)}`;
    default: {
      const unknown: never = o;
      return unknown;
    }
  }
}
