import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldProblem } from './domain-error';

/** Flattens class-validator errors into one problem per field, with dotted paths. */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...fieldProblems(error.children ?? [], field)];
  });
}

/**
 * Request validation for every route: unknown fields are rejected rather than ignored, so a
 * misspelt field never silently changes what is recorded.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = fieldProblems(errors);
      return new BadRequestException({
        error: 'VALIDATION_FAILED',
        message: `The request is invalid: ${[...new Set(details.map((d) => d.field))].join(', ')}.`,
        details,
      });
    },
  });
}
