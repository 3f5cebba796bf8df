import type { Capture, ConsentEvent, ProxyKind, Scope } from './events';
import type { SubjectState } from './state';

/** A broken rule: a stable code, plain English, and what kind of failure it is. */
export class RuleViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: 'rule-violation' | 'not-found' = 'rule-violation',
  ) {
    super(message);
    this.name = 'RuleViolation';
  }
}

export type ConsentCommand =
  | {
      type: 'record-consent';
      consentId: string;
      decision: 'granted' | 'refused';
      scope: Scope;
      validFrom: string;
      validUntil: string | null;
      capture: Capture;
      evidenceRef: string | null;
      notes: string | null;
    }
  | { type: 'withdraw-consent'; consentId: string; reason: string }
  | { type: 'raise-objection'; objectionId: string; scope: Scope; reason: string }
  | {
      type: 'decide-objection';
      objectionId: string;
      outcome: 'upheld' | 'overruled';
      reason: string;
    }
  | { type: 'withdraw-objection'; objectionId: string; reason: string }
  | { type: 'set-national-opt-out'; optedOut: boolean }
  | {
      type: 'set-contact-preferences';
      channel: 'email' | 'sms' | 'letter';
      email?: string;
      phone?: string;
      address?: string;
    }
  | {
      type: 'register-proxy';
      proxyId: string;
      kind: ProxyKind;
      name: string;
      reference: string;
      validFrom: string;
      validUntil: string | null;
    }
  | { type: 'revoke-proxy'; proxyId: string; reason: string };

/**
 * The rules of a person's consent record: given their current state, what a command records,
 * or which rule it breaks. Pure; `now` is passed in.
 */
export function decide(command: ConsentCommand, state: SubjectState, now: Date): ConsentEvent[] {
  switch (command.type) {
    case 'record-consent':
      return recordConsent(command, state, now);
    case 'withdraw-consent': {
      const consent = state.consents.find((c) => c.consentId === command.consentId);
      if (!consent) {
        throw new RuleViolation(
          'CONSENT_NOT_FOUND',
          `No consent ${command.consentId} is recorded for this person.`,
          'not-found',
        );
      }
      if (consent.withdrawn) {
        throw new RuleViolation('CONSENT_ALREADY_WITHDRAWN', 'This consent was already withdrawn.');
      }
      return [
        {
          type: 'consent.withdrawn.v1',
          data: { consentId: command.consentId, reason: command.reason },
        },
      ];
    }
    case 'raise-objection': {
      if (state.objections.some((o) => o.objectionId === command.objectionId)) {
        throw new RuleViolation('OBJECTION_ALREADY_RAISED', 'This objection is already recorded.');
      }
      return [
        {
          type: 'objection.raised.v1',
          data: { objectionId: command.objectionId, ...command.scope, reason: command.reason },
        },
      ];
    }
    case 'decide-objection': {
      const objection = findObjection(state, command.objectionId);
      if (objection.status === 'withdrawn') {
        throw new RuleViolation(
          'OBJECTION_WITHDRAWN',
          'The person withdrew this objection; there is nothing to decide.',
        );
      }
      if (objection.status !== 'pending') {
        throw new RuleViolation(
          'OBJECTION_ALREADY_DECIDED',
          `This objection was already ${objection.status}.`,
        );
      }
      return [
        {
          type: 'objection.decided.v1',
          data: {
            objectionId: command.objectionId,
            outcome: command.outcome,
            reason: command.reason,
          },
        },
      ];
    }
    case 'withdraw-objection': {
      const objection = findObjection(state, command.objectionId);
      if (objection.status === 'withdrawn') {
        throw new RuleViolation(
          'OBJECTION_ALREADY_WITHDRAWN',
          'This objection was already withdrawn.',
        );
      }
      return [
        {
          type: 'objection.withdrawn.v1',
          data: { objectionId: command.objectionId, reason: command.reason },
        },
      ];
    }
    case 'set-national-opt-out':
      // Setting what is already set records nothing: the history stays a list of changes.
      if (command.optedOut === state.nationalOptOut) return [];
      return [
        {
          type: command.optedOut ? 'national-opt-out.set.v1' : 'national-opt-out.cleared.v1',
          data: {},
        },
      ];
    case 'set-contact-preferences': {
      const { channel, email, phone, address } = command;
      if (channel === 'email' && !email)
        throw new RuleViolation('EMAIL_REQUIRED', 'Notices by email need an email address.');
      if (channel === 'sms' && !phone)
        throw new RuleViolation(
          'PHONE_REQUIRED',
          'Notices by text message need a UK mobile number.',
        );
      if (channel === 'letter' && !address)
        throw new RuleViolation('ADDRESS_REQUIRED', 'Notices by letter need a postal address.');
      const data = {
        channel,
        ...(email ? { email } : {}),
        ...(phone ? { phone } : {}),
        ...(address ? { address } : {}),
      };
      return [{ type: 'contact-preferences.set.v1', data }];
    }
    case 'register-proxy': {
      if (state.proxies.some((p) => p.proxyId === command.proxyId)) {
        throw new RuleViolation('PROXY_ALREADY_REGISTERED', 'This proxy is already registered.');
      }
      if (command.validUntil && command.validUntil <= command.validFrom) {
        throw new RuleViolation('INVALID_VALIDITY', 'validUntil must be after validFrom.');
      }
      const { proxyId, kind, name, reference, validFrom, validUntil } = command;
      return [
        {
          type: 'proxy.registered.v1',
          data: { proxyId, kind, name, reference, validFrom, validUntil },
        },
      ];
    }
    case 'revoke-proxy': {
      const proxy = state.proxies.find((p) => p.proxyId === command.proxyId);
      if (!proxy)
        throw new RuleViolation(
          'PROXY_NOT_FOUND',
          `No proxy ${command.proxyId} is registered for this person.`,
          'not-found',
        );
      if (proxy.revokedAt)
        throw new RuleViolation('PROXY_ALREADY_REVOKED', 'This proxy was already revoked.');
      return [
        { type: 'proxy.revoked.v1', data: { proxyId: command.proxyId, reason: command.reason } },
      ];
    }
    default: {
      const unknown: never = command;
      throw new Error(`Unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function recordConsent(
  command: Extract<ConsentCommand, { type: 'record-consent' }>,
  state: SubjectState,
  now: Date,
): ConsentEvent[] {
  const { capture, validFrom, validUntil } = command;
  if (validUntil && validUntil <= validFrom) {
    throw new RuleViolation('INVALID_VALIDITY', 'validUntil must be after validFrom.');
  }
  if (validUntil && new Date(validUntil) <= now) {
    throw new RuleViolation(
      'ALREADY_EXPIRED',
      'validUntil is in the past; the consent would never count.',
    );
  }
  if (state.consents.some((c) => c.consentId === command.consentId)) {
    throw new RuleViolation('CONSENT_ALREADY_RECORDED', 'This consent is already recorded.');
  }
  if (capture.givenBy === 'subject' && capture.capacity === 'lacks-capacity-best-interests') {
    throw new RuleViolation(
      'SUBJECT_LACKS_CAPACITY',
      'A person assessed as lacking capacity cannot give this consent themselves; record the best-interests decision or the proxy who gave it.',
    );
  }
  if (
    capture.capacity === 'lacks-capacity-best-interests' &&
    (!capture.decisionMaker || !capture.bestInterestsReason)
  ) {
    throw new RuleViolation(
      'BEST_INTERESTS_DECISION_REQUIRED',
      'A best-interests decision (Mental Capacity Act 2005 s.4) needs the decision-maker and the reason recorded.',
    );
  }
  if (capture.givenBy === 'lpa-health-welfare' || capture.givenBy === 'deputy') {
    const proxy = state.proxies.find(
      (p) =>
        p.kind === capture.givenBy &&
        !p.revokedAt &&
        new Date(p.validFrom) <= now &&
        (!p.validUntil || new Date(p.validUntil) > now),
    );
    if (!proxy) {
      const what =
        capture.givenBy === 'deputy'
          ? 'Court of Protection deputy'
          : 'Lasting Power of Attorney for health and welfare';
      throw new RuleViolation(
        'PROXY_NOT_REGISTERED',
        `No current ${what} is registered for this person, so they cannot consent on the person's behalf.`,
      );
    }
  }
  const data = {
    consentId: command.consentId,
    ...command.scope,
    validFrom,
    validUntil,
    capture,
    evidenceRef: command.evidenceRef,
    notes: command.notes,
  };
  return [
    { type: command.decision === 'granted' ? 'consent.granted.v1' : 'consent.refused.v1', data },
  ];
}

function findObjection(state: SubjectState, objectionId: string) {
  const objection = state.objections.find((o) => o.objectionId === objectionId);
  if (!objection)
    throw new RuleViolation(
      'OBJECTION_NOT_FOUND',
      `No objection ${objectionId} is recorded for this person.`,
      'not-found',
    );
  return objection;
}
