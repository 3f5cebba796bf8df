import type { DataCategory, Purpose } from '#common';
import type { Scope, StoredEvent } from './events';
import type { SubjectState } from './state';

const PURPOSE_WORDS: Record<Purpose, string> = {
  'direct-care': 'your care',
  safeguarding: 'keeping you safe',
  emergency: 'an emergency',
  'care-quality-audit': 'checking the quality of care',
  'service-planning': 'planning services',
  research: 'research',
};

const CATEGORY_WORDS: Record<DataCategory, string> = {
  demographics: 'your personal details',
  contacts: 'your contacts',
  'care-plan': 'your care plan',
  assessments: 'your assessments',
  'case-notes': 'your case notes',
  medications: 'your medicines',
  financial: 'your financial information',
  safeguarding: 'safeguarding information',
  'mental-health': 'your mental health information',
  'sexual-health': 'your sexual health information',
  'substance-misuse': 'information about alcohol or drug use',
  'criminal-justice': 'criminal justice information',
  'third-party-information': 'information about other people',
};

const KIND_WORDS: Record<string, string> = {
  'local-authority': 'council services',
  'nhs-trust': 'NHS hospitals and trusts',
  'gp-practice': 'GP practices',
  'care-provider': 'care providers',
  police: 'the police',
  housing: 'housing services',
  education: 'schools and colleges',
  'voluntary-sector': 'voluntary organisations',
  'research-body': 'research bodies',
  other: 'other organisations',
};

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function recipients(scope: Scope): string {
  return list(
    scope.recipients.map((r) =>
      r.startsWith('kind:') ? (KIND_WORDS[r.slice(5)] ?? r.slice(5)) : `organisation ${r}`,
    ),
  );
}

function what(scope: Scope): string {
  return `${recipients(scope)} to see ${list(scope.dataCategories.map((c) => CATEGORY_WORDS[c]))} for ${list(scope.purposes.map((p) => PURPOSE_WORDS[p]))}`;
}

/** A date as people write it: 3 March 2026. */
export function plainDate(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Europe/London',
  });
}

/**
 * What an event means, in words a service user understands. `before` is the state the event
 * applied to (to name the consent or objection it refers to).
 */
export function summarise(event: StoredEvent, before: SubjectState): string {
  const by =
    event.metadata.actor.name ??
    (event.metadata.actor.role === 'service_user'
      ? 'you'
      : `${event.metadata.actor.role.replace('_', ' ')} ${event.metadata.actor.userId}`);
  const on = plainDate(event.recordedAt);
  switch (event.type) {
    case 'consent.granted.v1':
      return `Your consent for ${what(event.data)} was recorded by ${by} on ${on}${event.data.validUntil ? `; it lasts until ${plainDate(event.data.validUntil)}` : ''}.`;
    case 'consent.refused.v1':
      return `Your refusal for ${what(event.data)} was recorded by ${by} on ${on}.`;
    case 'consent.withdrawn.v1': {
      const consent = before.consents.find((c) => c.consentId === event.data.consentId);
      const word = consent?.decision === 'refused' ? 'refusal' : 'consent';
      return `Your ${word}${consent ? ` for ${what(consent)}` : ''} was withdrawn by ${by} on ${on}: ${event.data.reason}`;
    }
    case 'objection.raised.v1':
      return `Your objection to ${what(event.data)} was recorded by ${by} on ${on}. While it is considered, this information is not shared for that purpose.`;
    case 'objection.decided.v1': {
      const outcome =
        event.data.outcome === 'upheld'
          ? 'upheld: the information will not be shared'
          : 'not upheld: the information may be shared';
      return `Your objection was ${outcome}. Decided by ${by} on ${on}: ${event.data.reason}`;
    }
    case 'objection.withdrawn.v1':
      return `Your objection was withdrawn by ${by} on ${on}.`;
    case 'national-opt-out.set.v1':
      return `Your national data opt-out was recorded by ${by} on ${on}: your information will not be used for research or planning.`;
    case 'national-opt-out.cleared.v1':
      return `Your national data opt-out was removed by ${by} on ${on}.`;
    case 'contact-preferences.set.v1':
      return `How we contact you was set to ${event.data.channel === 'sms' ? 'text message' : event.data.channel} by ${by} on ${on}.`;
    case 'proxy.registered.v1':
      return `${event.data.name} was registered as your ${event.data.kind === 'lpa-health-welfare' ? 'attorney for health and welfare' : event.data.kind === 'deputy' ? 'deputy' : 'parent'} by ${by} on ${on}.`;
    case 'proxy.revoked.v1':
      return `A person acting for you was removed by ${by} on ${on}.`;
    default: {
      const unknown: never = event;
      return `An event of type ${(unknown as { type: string }).type} was recorded.`;
    }
  }
}
