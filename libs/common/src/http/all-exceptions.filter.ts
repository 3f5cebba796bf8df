import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  CODE_OF_STATUS,
  DomainError,
  type ErrorBody,
  type FieldProblem,
  STATUS_OF_KIND,
} from './domain-error';

/** PostgreSQL / driver failures that mean "the database is unreachable", not "bad request". */
const UNAVAILABLE_CODES = new Set([
  '55000', // database not accepting connections
  '3D000', // database does not exist (dropped or not yet created)
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** Whether an error means the database (or another dependency) cannot be reached. */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  const driverCode = (error as { driverError?: { code?: unknown } }).driverError?.code;
  const codes = [code, driverCode].filter((c): c is string => typeof c === 'string');
  if (codes.some((c) => UNAVAILABLE_CODES.has(c) || c.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Cannot use a pool after calling end/i.test(
    error.message,
  );
}

/** Maps any thrown error to the API's error body; 5xx details are logged, never returned. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof DomainError) {
    return {
      statusCode: STATUS_OF_KIND[error.kind],
      error: error.code,
      message: error.message,
      details: error.details,
      ...error.extra,
    };
  }
  if (error instanceof HttpException) {
    const statusCode = error.getStatus();
    const response = error.getResponse();
    const body =
      typeof response === 'object' && response !== null
        ? (response as Record<string, unknown>)
        : {};
    const message =
      typeof body.message === 'string'
        ? body.message
        : Array.isArray(body.message)
          ? body.message.join('; ')
          : typeof response === 'string'
            ? response
            : error.message;
    return {
      statusCode,
      error:
        typeof body.error === 'string' && /^[A-Z][A-Z0-9_]+$/.test(body.error)
          ? body.error
          : (CODE_OF_STATUS[statusCode] ?? 'ERROR'),
      message,
      details: Array.isArray(body.details) ? (body.details as FieldProblem[]) : [],
    };
  }
  const fastifyStatus = (error as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    // Errors fastify raises before a route runs: malformed JSON, wrong content type, body too large.
    return {
      statusCode: fastifyStatus,
      error: CODE_OF_STATUS[fastifyStatus] ?? 'BAD_REQUEST',
      message: fastifyMessage(error),
      details: [],
    };
  }
  if (isUnavailableError(error)) {
    return {
      statusCode: 503,
      error: 'SERVICE_UNAVAILABLE',
      message:
        'A service this request depends on is unavailable; nothing was changed. Try again shortly.',
      details: [],
    };
  }
  return {
    statusCode: 500,
    error: 'INTERNAL_ERROR',
    message: 'An unexpected error occurred; it has been logged with the correlation id.',
    details: [],
  };
}

function fastifyMessage(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    code === 'FST_ERR_CTP_INVALID_JSON' ||
    error instanceof SyntaxError
  )
    return 'The request body is not valid JSON.';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return 'The request body is empty but declared as JSON.';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'The request body is too large.';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return 'The request content type is not supported; send application/json.';
  return error instanceof Error ? error.message : 'The request could not be read.';
}

/** The one exception filter: every 4xx/5xx leaves in the shape of API.md, with the correlation id. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toErrorBody(exception);
    body.correlationId = String(request.id);
    if (body.statusCode >= 500) {
      this.logger.error(
        {
          err: exception,
          correlationId: request.id,
          route: request.routeOptions?.url,
          statusCode: body.statusCode,
        },
        'request failed',
      );
    }
    void reply
      .status(body.statusCode)
      .header('content-type', 'application/json; charset=utf-8')
      .send(body);
  }
}
