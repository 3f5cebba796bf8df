import type { Reason, ReasonCode } from './policy.types';

/** A denial reason: its stable code and a plain-English sentence naming no personal data. */
export function reason(code: ReasonCode, message: string = defaultMessage(code)): Reason {
  return { code, message };
}

function defaultMessage(code: ReasonCode): string {
  switch (code) {
    case 'requester-inactive':
      return 'The requester does not have an active account with the gateway.';
    case 'training-expired':
      return "The requester's Information Governance training is missing or out of date.";
    case 'role-not-permitted':
      return "None of the requester's roles is permitted to see care records.";
    case 'no-legitimate-relationship':
      return 'The requester has no current care relationship with this person and no access grant for this purpose.';
    case 'no-agreement':
      return 'No data sharing agreement covers the recipient organisation for this purpose and data category.';
    case 'agreement-not-active':
      return 'The data sharing agreement covering this share is not active (draft, suspended, not yet in force or ended).';
    case 'sensitive-not-named':
      return 'This is a sensitive data category and it is not named explicitly; sensitive categories are never implied.';
    case 'no-consent':
      return 'The agreement relies on consent and the person has not given consent covering this purpose, recipient and data category.';
    case 'consent-refused':
      return 'The person has refused consent to share this data category for this purpose with this recipient.';
    case 'consent-withdrawn':
      return 'The person has withdrawn the consent that covered this share.';
    case 'consent-expired':
      return 'The consent that covered this share has expired.';
    case 'objection-upheld':
      return 'An objection by the person to this share has been upheld.';
    case 'objection-pending':
      return 'The person has objected to this share; processing is restricted until the objection is decided.';
    case 'national-data-opt-out':
      return 'The person has registered a national data opt-out, which applies to research and service planning.';
    case 'outside-uk':
      return 'The recipient organisation processes data outside the UK and no active agreement records international transfer safeguards.';
    case 'consent-state-stale':
      return "The gateway's copy of consent records is out of date, so the person's consent choices cannot be relied on; try again shortly.";
    case 'break-glass-not-permitted':
      return "The safeguarding override was requested but none of the requester's roles may use it.";
    default: {
      const unknown: never = code;
      return unknown;
    }
  }
}
