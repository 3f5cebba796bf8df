import { decide, RuleViolation, type ConsentCommand } from './decide';
import type { ConsentEvent, StoredEvent } from './events';
import { consentStatus, replay } from './state';

const NOW = new Date('2026-03-03T10:00:00Z');
const SUBJECT = '9434765919';
const scope = {
  purposes: ['direct-care' as const],
  recipients: ['kind:local-authority'],
  dataCategories: ['care-plan' as const],
};
const capture = {
  method: 'written' as const,
  givenBy: 'subject' as const,
  capacity: 'has-capacity' as const,
};

function stored(events: ConsentEvent[]): StoredEvent[] {
  return events.map((e, i) => ({
    ...e,
    eventId: `e${i}`,
    streamVersion: i + 1,
    recordedAt: new Date(NOW.getTime() - (events.length - i) * 60_000).toISOString(),
    metadata: {
      actor: { userId: 'sw-1', org: 'X26', role: 'social_worker' },
      correlationId: 'c',
      causationId: null,
    },
  }));
}

/** given (past events) / when (command) / then (new events, or the rule broken). */
function given(...history: ConsentEvent[]) {
  const state = replay(SUBJECT, stored(history));
  return {
    when: (command: ConsentCommand) => ({
      then: (expected: ConsentEvent[]) => expect(decide(command, state, NOW)).toEqual(expected),
      thenRejects: (code: string) => {
        let caught: unknown;
        try {
          decide(command, state, NOW);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(RuleViolation);
        expect((caught as RuleViolation).code).toBe(code);
      },
    }),
  };
}

const record = (
  over: Partial<Extract<ConsentCommand, { type: 'record-consent' }>> = {},
): ConsentCommand => ({
  type: 'record-consent',
  consentId: 'c1',
  decision: 'granted',
  scope,
  validFrom: '2026-03-01T00:00:00.000Z',
  validUntil: '2027-03-01T00:00:00.000Z',
  capture,
  evidenceRef: 'DOC-1',
  notes: null,
  ...over,
});
const granted = (consentId = 'c1'): Extract<ConsentEvent, { type: 'consent.granted.v1' }> => ({
  type: 'consent.granted.v1',
  data: {
    consentId,
    ...scope,
    validFrom: '2026-03-01T00:00:00.000Z',
    validUntil: '2027-03-01T00:00:00.000Z',
    capture,
    evidenceRef: 'DOC-1',
    notes: null,
  },
});
const raised = (objectionId = 'o1'): Extract<ConsentEvent, { type: 'objection.raised.v1' }> => ({
  type: 'objection.raised.v1',
  data: { objectionId, ...scope, reason: 'I do not want this' },
});
const proxy = (
  kind: 'lpa-health-welfare' | 'deputy',
  over: Record<string, unknown> = {},
): ConsentEvent => ({
  type: 'proxy.registered.v1',
  data: {
    proxyId: 'p1',
    kind,
    name: 'J. Doe',
    reference: 'OPG-123',
    validFrom: '2025-01-01T00:00:00.000Z',
    validUntil: null,
    ...over,
  },
});

describe('recording consent', () => {
  it('records a grant', () => given().when(record()).then([granted()]));
  it('records a refusal', () => {
    const refused = { ...granted(), type: 'consent.refused.v1' as const };
    given()
      .when(record({ decision: 'refused' }))
      .then([refused]);
  });
  it('rejects validUntil before validFrom', () =>
    given()
      .when(record({ validUntil: '2026-02-01T00:00:00.000Z' }))
      .thenRejects('INVALID_VALIDITY'));
  it('rejects a consent already expired', () =>
    given()
      .when(
        record({ validFrom: '2025-01-01T00:00:00.000Z', validUntil: '2026-01-01T00:00:00.000Z' }),
      )
      .thenRejects('ALREADY_EXPIRED'));
  it('rejects a repeated consent id', () =>
    given(granted()).when(record()).thenRejects('CONSENT_ALREADY_RECORDED'));
  it('rejects the person consenting while assessed as lacking capacity', () =>
    given()
      .when(record({ capture: { ...capture, capacity: 'lacks-capacity-best-interests' } }))
      .thenRejects('SUBJECT_LACKS_CAPACITY'));
  it('needs the decision-maker and reason for a best-interests decision', () =>
    given()
      .when(
        record({
          capture: {
            ...capture,
            givenBy: 'parent',
            capacity: 'lacks-capacity-best-interests',
            decisionMaker: 'Dr A',
          },
        }),
      )
      .thenRejects('BEST_INTERESTS_DECISION_REQUIRED'));
  it('accepts a recorded best-interests decision', () => {
    const c = {
      ...capture,
      givenBy: 'parent' as const,
      capacity: 'lacks-capacity-best-interests' as const,
      decisionMaker: 'Dr A',
      bestInterestsReason: 'to arrange care at home',
    };
    expect(decide(record({ capture: c }), replay(SUBJECT, []), NOW)[0].type).toBe(
      'consent.granted.v1',
    );
  });
  it.each(['lpa-health-welfare', 'deputy'] as const)(
    'needs a registered %s to consent on the person’s behalf',
    (kind) =>
      given()
        .when(record({ capture: { ...capture, givenBy: kind, proxyName: 'J. Doe' } }))
        .thenRejects('PROXY_NOT_REGISTERED'),
  );
  it('accepts consent from a registered, current LPA', () => {
    const events = decide(
      record({ capture: { ...capture, givenBy: 'lpa-health-welfare' } }),
      replay(SUBJECT, stored([proxy('lpa-health-welfare')])),
      NOW,
    );
    expect(events[0].type).toBe('consent.granted.v1');
  });
  it('refuses a proxy of the other kind, a revoked one and an expired one', () => {
    given(proxy('deputy'))
      .when(record({ capture: { ...capture, givenBy: 'lpa-health-welfare' } }))
      .thenRejects('PROXY_NOT_REGISTERED');
    given(proxy('deputy'), { type: 'proxy.revoked.v1', data: { proxyId: 'p1', reason: 'ended' } })
      .when(record({ capture: { ...capture, givenBy: 'deputy' } }))
      .thenRejects('PROXY_NOT_REGISTERED');
    given(proxy('deputy', { validUntil: '2026-01-01T00:00:00.000Z' }))
      .when(record({ capture: { ...capture, givenBy: 'deputy' } }))
      .thenRejects('PROXY_NOT_REGISTERED');
  });
});

describe('withdrawing consent', () => {
  it('withdraws a recorded consent', () =>
    given(granted())
      .when({ type: 'withdraw-consent', consentId: 'c1', reason: 'changed my mind' })
      .then([
        { type: 'consent.withdrawn.v1', data: { consentId: 'c1', reason: 'changed my mind' } },
      ]));
  it('will not withdraw twice', () =>
    given(granted(), { type: 'consent.withdrawn.v1', data: { consentId: 'c1', reason: 'x' } })
      .when({ type: 'withdraw-consent', consentId: 'c1', reason: 'again' })
      .thenRejects('CONSENT_ALREADY_WITHDRAWN'));
  it('will not withdraw a consent this person does not have', () =>
    given(granted())
      .when({ type: 'withdraw-consent', consentId: 'other', reason: 'x' })
      .thenRejects('CONSENT_NOT_FOUND'));
});

describe('objections', () => {
  it('raises an objection', () =>
    given()
      .when({ type: 'raise-objection', objectionId: 'o1', scope, reason: 'I do not want this' })
      .then([raised()]));
  it('decides a pending objection once', () => {
    given(raised())
      .when({
        type: 'decide-objection',
        objectionId: 'o1',
        outcome: 'upheld',
        reason: 'risk is low',
      })
      .then([
        {
          type: 'objection.decided.v1',
          data: { objectionId: 'o1', outcome: 'upheld', reason: 'risk is low' },
        },
      ]);
    given(raised(), {
      type: 'objection.decided.v1',
      data: { objectionId: 'o1', outcome: 'overruled', reason: 'duty to share' },
    })
      .when({ type: 'decide-objection', objectionId: 'o1', outcome: 'upheld', reason: 'again' })
      .thenRejects('OBJECTION_ALREADY_DECIDED');
  });
  it('does not decide a withdrawn or unknown objection', () => {
    given(raised(), {
      type: 'objection.withdrawn.v1',
      data: { objectionId: 'o1', reason: 'resolved' },
    })
      .when({ type: 'decide-objection', objectionId: 'o1', outcome: 'upheld', reason: 'x' })
      .thenRejects('OBJECTION_WITHDRAWN');
    given()
      .when({ type: 'decide-objection', objectionId: 'o9', outcome: 'upheld', reason: 'x' })
      .thenRejects('OBJECTION_NOT_FOUND');
  });
  it('withdraws an objection once', () => {
    given(raised())
      .when({ type: 'withdraw-objection', objectionId: 'o1', reason: 'sorted' })
      .then([{ type: 'objection.withdrawn.v1', data: { objectionId: 'o1', reason: 'sorted' } }]);
    given(raised(), { type: 'objection.withdrawn.v1', data: { objectionId: 'o1', reason: 'x' } })
      .when({ type: 'withdraw-objection', objectionId: 'o1', reason: 'again' })
      .thenRejects('OBJECTION_ALREADY_WITHDRAWN');
    given()
      .when({ type: 'raise-objection', objectionId: 'o1', scope, reason: 'r' })
      .then([{ ...raised(), data: { ...scope, objectionId: 'o1', reason: 'r' } }]);
    given(raised())
      .when({ type: 'raise-objection', objectionId: 'o1', scope, reason: 'r' })
      .thenRejects('OBJECTION_ALREADY_RAISED');
  });
});

describe('national data opt-out and contact preferences', () => {
  it('sets and clears the opt-out, recording nothing when unchanged', () => {
    given()
      .when({ type: 'set-national-opt-out', optedOut: true })
      .then([{ type: 'national-opt-out.set.v1', data: {} }]);
    given({ type: 'national-opt-out.set.v1', data: {} })
      .when({ type: 'set-national-opt-out', optedOut: false })
      .then([{ type: 'national-opt-out.cleared.v1', data: {} }]);
    given({ type: 'national-opt-out.set.v1', data: {} })
      .when({ type: 'set-national-opt-out', optedOut: true })
      .then([]);
    given().when({ type: 'set-national-opt-out', optedOut: false }).then([]);
  });
  it.each([
    ['email', 'EMAIL_REQUIRED'],
    ['sms', 'PHONE_REQUIRED'],
    ['letter', 'ADDRESS_REQUIRED'],
  ] as const)('needs the details of the chosen channel (%s)', (channel, code) =>
    given().when({ type: 'set-contact-preferences', channel }).thenRejects(code),
  );
  it('records contact preferences', () =>
    given()
      .when({ type: 'set-contact-preferences', channel: 'sms', phone: '07700900123' })
      .then([
        { type: 'contact-preferences.set.v1', data: { channel: 'sms', phone: '07700900123' } },
      ]));
});

describe('proxies', () => {
  const register: ConsentCommand = {
    type: 'register-proxy',
    proxyId: 'p1',
    kind: 'deputy',
    name: 'J. Doe',
    reference: 'COP-1',
    validFrom: '2025-01-01T00:00:00.000Z',
    validUntil: null,
  };
  it('registers once and revokes once', () => {
    given()
      .when(register)
      .then([
        {
          type: 'proxy.registered.v1',
          data: {
            proxyId: 'p1',
            kind: 'deputy',
            name: 'J. Doe',
            reference: 'COP-1',
            validFrom: '2025-01-01T00:00:00.000Z',
            validUntil: null,
          },
        },
      ]);
    given(proxy('deputy')).when(register).thenRejects('PROXY_ALREADY_REGISTERED');
    given(proxy('deputy'))
      .when({ type: 'revoke-proxy', proxyId: 'p1', reason: 'order ended' })
      .then([{ type: 'proxy.revoked.v1', data: { proxyId: 'p1', reason: 'order ended' } }]);
    given(proxy('deputy'), { type: 'proxy.revoked.v1', data: { proxyId: 'p1', reason: 'x' } })
      .when({ type: 'revoke-proxy', proxyId: 'p1', reason: 'x' })
      .thenRejects('PROXY_ALREADY_REVOKED');
    given()
      .when({ type: 'revoke-proxy', proxyId: 'p1', reason: 'x' })
      .thenRejects('PROXY_NOT_FOUND');
    given()
      .when({ ...register, validUntil: '2024-01-01T00:00:00.000Z' } as ConsentCommand)
      .thenRejects('INVALID_VALIDITY');
  });
});

describe('consent status needs no expiry job', () => {
  it('is read from the validity window and withdrawal at the instant asked', () => {
    const state = replay(SUBJECT, stored([granted()]));
    const consent = state.consents[0];
    expect(consentStatus(consent, new Date('2026-02-01T00:00:00Z'))).toBe('not-yet-valid');
    expect(consentStatus(consent, NOW)).toBe('active');
    expect(consentStatus(consent, new Date('2027-03-01T00:00:00Z'))).toBe('expired');
    const withdrawn = replay(
      SUBJECT,
      stored([granted(), { type: 'consent.withdrawn.v1', data: { consentId: 'c1', reason: 'x' } }]),
    ).consents[0];
    expect(consentStatus(withdrawn, NOW)).toBe('withdrawn');
  });
});
