/** One problem with one input field, as listed in an error body's `details`. */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** The body of every 4xx/5xx response (API.md "Errors"). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: FieldProblem[];
  correlationId?: string;
  [extra: string]: unknown;
}

/** What kind of failure a domain error is; the exception filter maps each kind to a status. */
export type DomainErrorKind =
  | 'invalid'
  | 'not-found'
  | 'forbidden'
  | 'conflict'
  | 'version-conflict'
  | 'rule-violation'
  | 'bad-gateway'
  | 'unavailable';

/**
 * An error raised by a use case: a stable string code (`CONSENT_ALREADY_WITHDRAWN`) and a
 * plain-English message. Handlers throw these and never build HTTP responses themselves.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: DomainErrorKind = 'rule-violation',
    readonly details: FieldProblem[] = [],
    /** Further fields of the error body (a denied decision's id and reasons, say). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** HTTP status for each domain error kind. */
export const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'version-conflict': 412,
  'rule-violation': 422,
  'bad-gateway': 502,
  unavailable: 503,
};

/** Default error codes by status, for errors that carry no code of their own. */
export const CODE_OF_STATUS: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  412: 'VERSION_CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'RULE_VIOLATION',
  428: 'PRECONDITION_REQUIRED',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};
