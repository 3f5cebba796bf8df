import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { isValidNhsNumber } from '#common';

/** A valid NHS number: 10 digits with a modulus 11 check digit. */
export function IsNhsNumber(validation?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isNhsNumber',
      target: target.constructor,
      propertyName: String(propertyName),
      options: validation,
      validator: {
        validate: (value: unknown): boolean => typeof value === 'string' && isValidNhsNumber(value),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be a valid NHS number (10 digits, modulus 11 check digit)`,
      },
    });
}
