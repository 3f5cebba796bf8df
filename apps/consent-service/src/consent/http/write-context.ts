import { BadRequestException, ForbiddenException, type PipeTransform } from '@nestjs/common';
import { canActOnSubject, isValidNhsNumber, type AuthenticatedUser, type Role } from '#common';
import type { WriteContext } from '../stream/consent-stream.service';

/** Validates the `{subjectId}` path segment as an NHS number (400 naming it otherwise). */
export class SubjectIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidNhsNumber(value)) {
      throw new BadRequestException({
        error: 'VALIDATION_FAILED',
        message: 'The request is invalid: subjectId.',
        details: [
          {
            field: 'subjectId',
            problem: 'subjectId must be a valid NHS number (10 digits, modulus 11 check digit)',
          },
        ],
      });
    }
    return value;
  }
}

/** Validates a record id path segment as a UUID, naming the parameter. */
export function uuidPipe(field: string): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(value)
      ) {
        throw new BadRequestException({
          error: 'VALIDATION_FAILED',
          message: `The request is invalid: ${field}.`,
          details: [{ field, problem: `${field} must be a UUID` }],
        });
      }
      return value.toLowerCase();
    },
  };
}

/** A service user may act only on their own record; staff on anyone's (403 otherwise). */
export function assertMayAct(user: AuthenticatedUser, subjectId: string): void {
  if (!canActOnSubject(user, subjectId)) {
    throw new ForbiddenException({
      error: 'NOT_YOUR_RECORD',
      message: 'You may act only on your own record.',
    });
  }
}

function badHeader(field: string, problem: string): BadRequestException {
  return new BadRequestException({
    error: 'VALIDATION_FAILED',
    message: `The request is invalid: ${field}.`,
    details: [{ field, problem }],
  });
}

/** Builds the write context from the caller and the `If-Match` / `Idempotency-Key` headers. */
export function writeContext(
  user: AuthenticatedUser,
  allowed: readonly Role[],
  correlationId: string,
  headers: Record<string, string | string[] | undefined>,
  request: unknown,
): WriteContext {
  const ifMatch = headers['if-match'];
  let expectedVersion: number | undefined;
  if (typeof ifMatch === 'string' && ifMatch.trim() !== '*') {
    const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(ifMatch);
    if (!match) throw badHeader('If-Match', 'If-Match must be a stream version such as "3"');
    expectedVersion = Number(match[1]);
  }
  const key = headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !/^[A-Za-z0-9._:-]{1,200}$/.test(key))) {
    throw badHeader('Idempotency-Key', 'Idempotency-Key must be 1-200 letters, digits or ._:-');
  }
  const role = user.roles.find((r) => allowed.includes(r)) ?? user.roles[0];
  return {
    actor: { userId: user.userId, org: user.org, role, ...(user.name ? { name: user.name } : {}) },
    correlationId,
    expectedVersion,
    idempotencyKey: typeof key === 'string' ? key : undefined,
    request,
  };
}
