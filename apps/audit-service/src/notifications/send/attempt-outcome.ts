/** What came of trying to send one notice. */
export type AttemptResult =
  | { kind: 'delivered'; reference: string }
  /** The person has no usable contact preferences: nothing was sent. */
  | { kind: 'no-contact-details' }
  /** The channel refused this notice for good. */
  | { kind: 'rejected'; code: string }
  /** It may work later. */
  | { kind: 'transient'; code: string };

/**
 * Why a notice failed. A failure about contact details is tried again (from the start) when
 * the person's contact preferences next change.
 */
export type FailureReason = 'no-contact-details' | 'rejected-by-provider' | 'attempts-exhausted';
export const CONTACT_FAILURES: readonly FailureReason[] = [
  'no-contact-details',
  'rejected-by-provider',
];

/** The notification's next state after an attempt. */
export type NextState =
  | { status: 'sent'; reference: string; attempts: number }
  | { status: 'failed'; reason: FailureReason; attempts: number; lastError: string | null }
  | { status: 'pending'; retryInMs: number; attempts: number; lastError: string };

export interface RetryPolicy {
  maxAttempts: number;
  /** The wait before retry number `attempt` (from 0). */
  delayMs: (attempt: number) => number;
}

/**
 * Sent, retried later, or failed: a transient failure is retried after a growing wait until
 * `maxAttempts` deliveries have been tried. Finding no contact details is not a delivery
 * attempt, so it does not use one up.
 */
export function nextState(
  result: AttemptResult,
  attemptsBefore: number,
  policy: RetryPolicy,
): NextState {
  switch (result.kind) {
    case 'delivered':
      return { status: 'sent', reference: result.reference, attempts: attemptsBefore + 1 };
    case 'no-contact-details':
      return {
        status: 'failed',
        reason: 'no-contact-details',
        attempts: attemptsBefore,
        lastError: null,
      };
    case 'rejected':
      return {
        status: 'failed',
        reason: 'rejected-by-provider',
        attempts: attemptsBefore + 1,
        lastError: result.code,
      };
    case 'transient': {
      const attempts = attemptsBefore + 1;
      if (attempts >= policy.maxAttempts) {
        return { status: 'failed', reason: 'attempts-exhausted', attempts, lastError: result.code };
      }
      return {
        status: 'pending',
        retryInMs: policy.delayMs(attempts - 1),
        attempts,
        lastError: result.code,
      };
    }
    default: {
      const unknown: never = result;
      return unknown;
    }
  }
}
