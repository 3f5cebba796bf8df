import { nextState, type AttemptResult, type NextState } from './attempt-outcome';

const policy = { maxAttempts: 3, delayMs: (attempt: number) => 1000 * 2 ** attempt };

describe('nextState after an attempt to send a notice', () => {
  const cases: [string, AttemptResult, number, NextState][] = [
    [
      'delivered: sent, counting the attempt',
      { kind: 'delivered', reference: 'govuk-notify:abc' },
      1,
      { status: 'sent', reference: 'govuk-notify:abc', attempts: 2 },
    ],
    [
      'no contact details: failed at once, no attempt used',
      { kind: 'no-contact-details' },
      0,
      { status: 'failed', reason: 'no-contact-details', attempts: 0, lastError: null },
    ],
    [
      'rejected by the provider: failed at once, never retried',
      { kind: 'rejected', code: 'notify-400-ValidationError' },
      0,
      {
        status: 'failed',
        reason: 'rejected-by-provider',
        attempts: 1,
        lastError: 'notify-400-ValidationError',
      },
    ],
    [
      'first transient failure: retried after the first delay',
      { kind: 'transient', code: 'notify-503' },
      0,
      { status: 'pending', retryInMs: 1000, attempts: 1, lastError: 'notify-503' },
    ],
    [
      'second transient failure: the delay doubles',
      { kind: 'transient', code: 'timeout' },
      1,
      { status: 'pending', retryInMs: 2000, attempts: 2, lastError: 'timeout' },
    ],
    [
      'the last allowed attempt fails: attempts exhausted',
      { kind: 'transient', code: 'notify-429-RateLimitError' },
      2,
      {
        status: 'failed',
        reason: 'attempts-exhausted',
        attempts: 3,
        lastError: 'notify-429-RateLimitError',
      },
    ],
  ];

  it.each(cases)('%s', (_name, result, attemptsBefore, expected) => {
    expect(nextState(result, attemptsBefore, policy)).toEqual(expected);
  });

  it('with one attempt allowed, a transient failure fails at once', () => {
    expect(
      nextState({ kind: 'transient', code: 'x' }, 0, { ...policy, maxAttempts: 1 }),
    ).toMatchObject({ status: 'failed', reason: 'attempts-exhausted', attempts: 1 });
  });
});
