import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { isValidNhsNumber } from '#common';

function invalid(field: string, problem: string): BadRequestException {
  return new BadRequestException({
    error: 'VALIDATION_FAILED',
    message: `The request is invalid: ${field}.`,
    details: [{ field, problem }],
  });
}

/** A path segment that must match a pattern, named in the 400 when it does not. */
export function patternPipe(
  field: string,
  pattern: RegExp,
  problem: string,
): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (!pattern.test(value)) throw invalid(field, problem);
      return value;
    },
  };
}

/** `{subjectId}`: a valid NHS number. */
export const subjectIdPipe = {
  transform(value: string): string {
    if (!isValidNhsNumber(value)) {
      throw invalid(
        'subjectId',
        'subjectId must be a valid NHS number (10 digits, modulus 11 check digit)',
      );
    }
    return value;
  },
} satisfies PipeTransform<string, string>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const ODS_CODE = /^[A-Z0-9]{3,10}$/;
/** User and team ids: what identity providers issue (no spaces, no markup). */
export const PRINCIPAL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export const uuidPipe = (field: string): PipeTransform<string, string> =>
  patternPipe(field, UUID, `${field} must be a UUID`);
