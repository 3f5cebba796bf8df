import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsAfter, ReasonDto, ScopeDto } from '../http/scope.dto';

export class CaptureDto {
  @ApiProperty({ enum: ['verbal', 'written', 'electronic'] })
  @IsIn(['verbal', 'written', 'electronic'])
  method!: 'verbal' | 'written' | 'electronic';

  @ApiProperty({ enum: ['subject', 'lpa-health-welfare', 'deputy', 'parent'] })
  @IsIn(['subject', 'lpa-health-welfare', 'deputy', 'parent'])
  givenBy!: 'subject' | 'lpa-health-welfare' | 'deputy' | 'parent';

  @ApiProperty({ enum: ['has-capacity', 'lacks-capacity-best-interests', 'gillick-competent'] })
  @IsIn(['has-capacity', 'lacks-capacity-best-interests', 'gillick-competent'])
  capacity!: 'has-capacity' | 'lacks-capacity-best-interests' | 'gillick-competent';

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  proxyName?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    description: 'Who made the best-interests decision (needed when the person lacks capacity).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  decisionMaker?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  bestInterestsReason?: string;
}

export class RecordConsentDto extends ScopeDto {
  @ApiProperty({ enum: ['granted', 'refused'] })
  @IsIn(['granted', 'refused'])
  decision!: 'granted' | 'refused';

  @ApiPropertyOptional({ format: 'date-time', description: 'Defaults to now.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  validFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'No end when absent.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @IsAfter('validFrom')
  validUntil?: string;

  @ApiProperty({ type: CaptureDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CaptureDto)
  capture!: CaptureDto;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  evidenceRef?: string;

  @ApiPropertyOptional({
    maxLength: 4000,
    description: 'Kept in this service only; never published.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  notes?: string;
}

export class WithdrawalDto extends ReasonDto {}
