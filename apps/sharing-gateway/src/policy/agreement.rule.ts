import { isSensitiveCategory, type DataCategory, type Purpose } from '#common';
import type { AgreementFacts, OrganisationFacts, Reason, UserFacts } from './policy.types';
import { reason } from './reason.messages';
import { inForce } from './validity.rule';

/** The agreements that may carry a share of one category, or the single most specific reason. */
export type AgreementCheck =
  { candidates: AgreementFacts[]; reason: null } | { candidates: []; reason: Reason };

/**
 * Step 3: an active data sharing agreement covers the recipient organisation, one of the
 * requester's roles, the purpose and the category. There is no wildcard: every category, and
 * above all a sensitive one, counts only if the agreement lists it.
 */
export function checkAgreements(
  category: DataCategory,
  purpose: Purpose,
  user: UserFacts,
  organisation: OrganisationFacts,
  agreements: AgreementFacts[],
  at: Date,
): AgreementCheck {
  const namesOrganisation = (a: AgreementFacts) =>
    a.parties.includes(organisation.odsCode) || a.parties.includes(`kind:${organisation.kind}`);
  const namesRole = (a: AgreementFacts) => a.roles.some((role) => user.roles.includes(role));
  const namesCategory = (a: AgreementFacts) => a.dataCategories.includes(category);
  const forRequest = (a: AgreementFacts) => namesOrganisation(a) && a.purposes.includes(purpose);

  const covering = agreements.filter((a) => forRequest(a) && namesRole(a) && namesCategory(a));
  const activeCovering = covering.filter((a) => agreementActive(a, at));
  // UK GDPR Chapter V: processing outside the UK needs safeguards recorded in the agreement.
  const candidates = activeCovering.filter(
    (a) => organisation.country === 'GB' || hasTransferSafeguards(a),
  );
  if (candidates.length > 0) return { candidates, reason: null };

  if (activeCovering.length > 0) {
    return {
      candidates: [],
      reason: reason(
        'outside-uk',
        `The recipient organisation processes data outside the UK (${organisation.country}) and no active agreement covering this share records international transfer safeguards.`,
      ),
    };
  }
  if (covering.length > 0) return { candidates: [], reason: reason('agreement-not-active') };

  const activeForRequest = agreements.filter((a) => forRequest(a) && agreementActive(a, at));
  if (activeForRequest.some(namesCategory)) {
    return {
      candidates: [],
      reason: reason(
        'role-not-permitted',
        "No active data sharing agreement for this purpose and data category permits any of the requester's roles.",
      ),
    };
  }
  if (isSensitiveCategory(category) && activeForRequest.some(namesRole)) {
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
function agreementActive(agreement: AgreementFacts, at: Date): boolean {
  switch (agreement.status) {
    case 'active':
      return inForce(at, agreement.validFrom, agreement.validUntil);
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
