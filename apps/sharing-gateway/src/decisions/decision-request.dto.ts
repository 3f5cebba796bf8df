import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import {
  DATA_CATEGORY_NAMES,
  PURPOSES,
  STATUTE_CODES,
  type DataCategory,
  type Purpose,
  type Statute,
} from '#common';
import { ODS_CODE, PRINCIPAL_ID } from '../http/path-params.pipe';
import { IsNhsNumber } from '../reference/relationships/nhs-number.validator';

/** Shortest written reason a safeguarding override accepts: a reviewer must learn why. */
export const MIN_BREAK_GLASS_REASON = 20;

export class BreakGlassDto {
  @ApiProperty({ minLength: MIN_BREAK_GLASS_REASON, maxLength: 2000 })
  // Spaces are not a reason: the length counts what is written, not padding.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(MIN_BREAK_GLASS_REASON, 2000, {
    message: `reason must be between ${MIN_BREAK_GLASS_REASON} and 2000 characters: say why the override is needed`,
  })
  reason!: string;

  @ApiProperty({ enum: STATUTE_CODES })
  @IsIn(STATUTE_CODES, {
    message: `statutoryBasis must be one of: ${STATUTE_CODES.join(', ')}`,
  })
  statutoryBasis!: Statute;
}

export class DecisionRequestDto {
  @ApiProperty({ example: '9434765919' })
  @IsNhsNumber()
  subjectId!: string;

  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, { message: `purposeOfUse must be one of: ${PURPOSES.join(', ')}` })
  purposeOfUse!: Purpose;

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

  @ApiPropertyOptional({
    description: 'ODS code of the receiving organisation (default: the requester’s)',
  })
  @IsOptional()
  @IsString()
  @Matches(ODS_CODE, {
    message: 'recipientOrg must be an ODS code (3-10 capital letters or digits)',
  })
  recipientOrg?: string;

  @ApiPropertyOptional({ description: 'For system callers: the user the request is made for' })
  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID, {
    message: 'onBehalfOf must be a user id (1-128 letters, digits or ._:@-)',
  })
  onBehalfOf?: string;

  @ApiPropertyOptional({ type: BreakGlassDto, description: 'Safeguarding override' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BreakGlassDto)
  breakGlass?: BreakGlassDto;
}
