import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Matches,
  MaxLength,
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import {
  DATA_CATEGORY_NAMES,
  ORGANISATION_KINDS,
  PURPOSES,
  type DataCategory,
  type Purpose,
} from '#common';

/** An ODS code (3-10 letters and digits) or `kind:<organisation kind>`. */
export const RECIPIENT = new RegExp(
  `^(?:[A-Z0-9]{3,10}|kind:(?:${ORGANISATION_KINDS.join('|')}))$`,
);

/** What a consent, refusal or objection covers. */
export class ScopeDto {
  @ApiProperty({ enum: PURPOSES, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(PURPOSES.length)
  @IsIn(PURPOSES, {
    each: true,
    message: `each value in purposes must be one of: ${PURPOSES.join(', ')}`,
  })
  purposes!: Purpose[];

  @ApiProperty({
    example: ['RJ1', 'kind:local-authority'],
    description: 'ODS codes or kind:<organisation-kind>',
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(RECIPIENT, {
    each: true,
    message: 'each value in recipients must be an ODS code or kind:<organisation-kind>',
  })
  recipients!: string[];

  @ApiProperty({ enum: DATA_CATEGORY_NAMES, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(DATA_CATEGORY_NAMES.length)
  @IsIn(DATA_CATEGORY_NAMES, {
    each: true,
    message: `each value in dataCategories must be one of: ${DATA_CATEGORY_NAMES.join(', ')}`,
  })
  dataCategories!: DataCategory[];
}

/** A free-text reason: required, bounded. */
export class ReasonDto {
  @ApiProperty({ maxLength: 2000 })
  @IsString()
  @Matches(/\S/, { message: 'reason must not be blank' })
  @MaxLength(2000)
  reason!: string;
}

/** The decorated property must be later than the named one when both are present. */
export function IsAfter(other: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isAfter',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [other],
      options: { message: `$property must be after ${other}`, ...options },
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const before = (args.object as Record<string, unknown>)[other];
          if (typeof value !== 'string' || typeof before !== 'string') return true;
          return Date.parse(value) > Date.parse(before);
        },
      },
    });
}
