import { isSensitiveCategory, type DataCategory, type Purpose } from '#common';
import type { AgreementFacts, OrganisationFacts, Reason, UserFacts } from './policy.types';
import { reason } from './reason.messages';
import { inForceAt } from './validity.rule';

/** The agreements that may carry a share of one category, or the single most specific reason. */
export type AgreementCheck =
  { candidates: AgreementFacts[]; reason: null } | { candidates: []; reason: Reason };

/** An agreement naming the recipient organisation and the purpose, judged once per request. */
interface RequestAgreement {
  agreement: AgreementFacts;
  active: boolean;
  namesRole: boolean;
  /** In the UK, or transfer safeguards recorded (UK GDPR Chapter V). */
  transferAllowed: boolean;
}

/**
 * What of step 3 does not depend on the category, worked out once per request: which agreements
 * name the recipient organisation and the purpose, and whether each is active, names one of the
 * requester's roles and allows the transfer. Their order is the order of `agreements`.
 */
export interface RequestAgreements {
  organisation: OrganisationFacts;
  agreements: RequestAgreement[];
  /** Some active agreement for the request names one of the requester's roles. */
  activeNamingRole: boolean;
}

export function agreementsForRequest(
  purpose: Purpose,
  user: UserFacts,
  organisation: OrganisationFacts,
  agreements: readonly AgreementFacts[],
  at: number,
): RequestAgreements {
  const kind = `kind:${organisation.kind}`;
  const inUk = organisation.country === 'GB';
  const forRequest: RequestAgreement[] = [];
  let activeNamingRole = false;
  for (const agreement of agreements) {
    const { parties } = agreement;
    if (!(parties.includes(organisation.odsCode) || parties.includes(kind))) continue;
    if (!agreement.purposes.includes(purpose)) continue;
    const active = agreementActive(agreement, at);
    const namesRole = agreement.roles.some((role) => user.roles.includes(role));
    if (active && namesRole) activeNamingRole = true;
    forRequest.push({
      agreement,
      active,
      namesRole,
      transferAllowed: inUk || hasTransferSafeguards(agreement),
    });
  }
  return { organisation, agreements: forRequest, activeNamingRole };
}

/**
 * Step 3: an active data sharing agreement covers the recipient organisation, one of the
 * requester's roles, the purpose and the category. There is no wildcard: every category, and
 * above all a sensitive one, counts only if the agreement lists it.
 */
export function checkAgreements(
  category: DataCategory,
  request: RequestAgreements,
): AgreementCheck {
  let candidates: AgreementFacts[] | null = null;
  let covering = false;
  let activeCovering = false;
  let activeNamingCategory = false;
  for (const a of request.agreements) {
    const namesCategory = a.agreement.dataCategories.includes(category);
    if (!namesCategory) continue;
    if (a.active) activeNamingCategory = true;
    if (!a.namesRole) continue;
    covering = true;
    if (!a.active) continue;
    activeCovering = true;
    if (a.transferAllowed) (candidates ??= []).push(a.agreement);
  }
  if (candidates !== null) return { candidates, reason: null };

  if (activeCovering) {
    return {
      candidates: [],
      reason: reason(
        'outside-uk',
        `The recipient organisation processes data outside the UK (${request.organisation.country}) and no active agreement covering this share records international transfer safeguards.`,
      ),
    };
  }
  if (covering) return { candidates: [], reason: reason('agreement-not-active') };

  if (activeNamingCategory) {
    return {
      candidates: [],
      reason: reason(
        'role-not-permitted',
        "No active data sharing agreement for this purpose and data category permits any of the requester's roles.",
      ),
    };
  }
  if (isSensitiveCategory(category) && request.activeNamingRole) {
    return {
      candidates: [],
      reason: reason(
        'sensitive-not-named',
        'This is a sensitive data category and the data sharing agreement does not name it explicitly; sensitive categories are never implied.',
      ),
    };
  }
  return { candidates: [], reason: reason('no-agreement') };
}

/** Only an `active` agreement inside its validity period counts (DESIGN.md, reference data). */
function agreementActive(agreement: AgreementFacts, at: number): boolean {
  switch (agreement.status) {
    case 'active':
      return inForceAt(at, agreement.validFrom, agreement.validUntil);
    case 'draft':
    case 'suspended':
      return false;
    default: {
      const unknown: never = agreement.status;
      return unknown;
    }
  }
}

/** A blank text records no safeguard. */
function hasTransferSafeguards(agreement: AgreementFacts): boolean {
  return (agreement.internationalTransferSafeguards ?? '').trim() !== '';
}
