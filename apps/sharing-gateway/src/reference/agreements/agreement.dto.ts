import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import {
  ARTICLE_6_BASES,
  ARTICLE_9_CONDITIONS,
  DATA_CATEGORY_NAMES,
  ORGANISATION_KINDS,
  PURPOSES,
  ROLES,
  STATUTE_CODES,
  type Article6Basis,
  type Article9Condition,
  type DataCategory,
  type Purpose,
  type Role,
  type Statute,
} from '#common';
import { IsAfter, IsInstant } from '../validity.validators';

/** A party: an ODS code or `kind:<organisation-kind>`. */
export const PARTY = new RegExp(`^(?:[A-Z0-9]{3,10}|kind:(?:${ORGANISATION_KINDS.join('|')}))$`);

export const AGREEMENT_STATUSES = ['draft', 'active', 'suspended'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];

export class LegalBasisDto {
  @ApiProperty({ enum: ARTICLE_6_BASES })
  @IsIn(ARTICLE_6_BASES, {
    message: `article6 must be one of: ${ARTICLE_6_BASES.join(', ')}`,
  })
  article6!: Article6Basis;

  @ApiPropertyOptional({ enum: ARTICLE_9_CONDITIONS })
  @IsOptional()
  @IsIn(ARTICLE_9_CONDITIONS, {
    message: `article9 must be one of: ${ARTICLE_9_CONDITIONS.join(', ')}`,
  })
  article9?: Article9Condition;

  @ApiProperty({ enum: STATUTE_CODES, isArray: true })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(STATUTE_CODES.length)
  @IsIn(STATUTE_CODES, {
    each: true,
    message: `each value in statutes must be one of: ${STATUTE_CODES.join(', ')}`,
  })
  statutes!: Statute[];
}

export class AgreementDto {
  @ApiProperty({ example: 'Northshire integrated care: direct care' })
  @IsString()
  @Length(1, 300)
  title!: string;

  @ApiProperty({ example: ['X26', 'kind:nhs-trust'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Matches(PARTY, {
    each: true,
    message: 'each value in parties must be an ODS code or kind:<organisation-kind>',
  })
  parties!: string[];

  @ApiProperty({ enum: ROLES, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true, message: `each value in roles must be one of: ${ROLES.join(', ')}` })
  roles!: Role[];

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

  @ApiProperty({ type: LegalBasisDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => LegalBasisDto)
  legalBasis!: LegalBasisDto;

  @ApiProperty({ example: '2026-01-01T00:00:00Z' })
  @IsInstant()
  validFrom!: string;

  @ApiProperty({ example: '2028-01-01T00:00:00Z' })
  @IsInstant()
  @IsAfter('validFrom')
  validUntil!: string;

  @ApiProperty({ enum: AGREEMENT_STATUSES })
  @IsIn(AGREEMENT_STATUSES, {
    message: `status must be one of: ${AGREEMENT_STATUSES.join(', ')}`,
  })
  status!: AgreementStatus;

  @ApiPropertyOptional({
    description: 'Safeguards recorded for processing outside the UK (e.g. an adequacy decision)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  internationalTransferSafeguards?: string;
}

/** A change to some fields of an agreement; the merged agreement is validated again. */
export class AgreementPatchDto extends PartialType(AgreementDto) {}
