import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Header carrying the id that ties a request to its logs, decision and events. */
export const CORRELATION_HEADER = 'x-correlation-id';

// Caller-supplied ids are echoed into logs and events, so only plain tokens are accepted.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's correlation id when it is a plain token, or makes a new one. */
export function correlationIdFor(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SAFE_ID.test(value) ? value : randomUUID();
}

/** The request's correlation id, for handlers to carry into events. */
export const CorrelationId = createParamDecorator((_: unknown, context: ExecutionContext): string =>
  String(context.switchToHttp().getRequest<FastifyRequest>().id),
);
