import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date (no 31 February), optionally not later than today (UTC). */
export function IsCalendarDate(
  options: { notInFuture?: boolean } = {},
  validation?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isCalendarDate',
      target: target.constructor,
      propertyName: String(propertyName),
      options: validation,
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
          const date = new Date(`${value}T00:00:00Z`);
          if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value)
            return false;
          return !options.notInFuture || value <= new Date().toISOString().slice(0, 10);
        },
        defaultMessage: (args?: ValidationArguments) =>
          options.notInFuture
            ? `${args?.property} must be a real date, not in the future`
            : `${args?.property} must be a real date`,
      },
    });
}

/** JavaScript rolls 31 February over to March; PostgreSQL refuses it. Both must agree. */
function isRealDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

/** An ISO 8601 instant with a time zone, parsed to a real time. */
export function IsInstant(validation?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isInstant',
      target: target.constructor,
      propertyName: String(propertyName),
      options: validation,
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' &&
          value.length <= 40 &&
          /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(
            value,
          ) &&
          !Number.isNaN(new Date(value).getTime()) &&
          isRealDay(value.slice(0, 10)),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be an ISO 8601 date or date-time with a time zone, on a real day`,
      },
    });
}

/** This instant must be later than the named sibling property (when both are given). */
export function IsAfter(sibling: string, validation?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isAfter',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [sibling],
      options: validation,
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const other = (args.object as Record<string, unknown>)[sibling];
          if (typeof value !== 'string' || typeof other !== 'string') return true;
          return new Date(value).getTime() > new Date(other).getTime();
        },
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be later than ${sibling}`,
      },
    });
}
