import {
  type ArgumentMetadata,
  BadRequestException,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import type { FieldProblem } from './domain-error';

/** Flattens class-validator errors into one problem per field, with dotted paths. */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...fieldProblems(error.children ?? [], field)];
  });
}

// PostgreSQL cannot store NUL in text or jsonb, nor half of a UTF-16 surrogate pair in jsonb;
// such input must be refused as invalid here, not discovered as a failed INSERT (a 500).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);
/** Deeper than any request body of the API; deeper input is refused before it is walked. */
const MAX_DEPTH = 16;

/** Problems with input text that no field may hold, whatever its type: unstorable characters. */
export function unstorableTextProblems(value: unknown, field: string, depth = 0): FieldProblem[] {
  const name = field || 'body';
  if (typeof value === 'string') {
    return unstorable(value)
      ? [{ field: name, problem: `${name} contains a NUL character or an unpaired surrogate` }]
      : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  if (depth >= MAX_DEPTH) {
    return [{ field: name, problem: `${name} is nested more than ${MAX_DEPTH} levels deep` }];
  }
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = field ? `${field}.${key}` : key;
    const ownKey = unstorable(key)
      ? [{ field: path, problem: 'a field name contains a NUL character or an unpaired surrogate' }]
      : [];
    return [...ownKey, ...unstorableTextProblems(inner, path, depth + 1)];
  });
}

function invalid(details: FieldProblem[]): BadRequestException {
  return new BadRequestException({
    error: 'VALIDATION_FAILED',
    message: `The request is invalid: ${[...new Set(details.map((d) => d.field))].join(', ')}.`,
    details,
  });
}

/** The platform's validation: unstorable text is refused for every parameter, typed or not. */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const problems = unstorableTextProblems(value, metadata.data ?? '');
      if (problems.length > 0) throw invalid(problems);
    }
    return super.transform(value, metadata);
  }
}

/**
 * Request validation for every route: unknown fields are rejected rather than ignored, so a
 * misspelt field never silently changes what is recorded.
 */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => invalid(fieldProblems(errors)),
  });
}
