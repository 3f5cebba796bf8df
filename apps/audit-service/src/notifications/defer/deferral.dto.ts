import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, ValidateBy } from 'class-validator';
import { instantParameter } from '../../http/query-params';

/** POST /v1/notifications/{id}/deferral. */
export class DeferralDto {
  @ApiProperty({
    description:
      'Why telling the person now would put someone at risk or prejudice an investigation (10-2000 characters). Kept with the deferral; never in the log or the notice.',
    minLength: 10,
    maxLength: 2000,
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(10, 2000, { message: 'reason must be 10-2000 characters' })
  reason!: string;

  @ApiProperty({
    description:
      'When the deferral is reviewed: an ISO 8601 date (midnight UTC) or date-time with a zone, in the future. Then the notice is due again and is listed by GET /v1/notifications/deferral-reviews.',
    example: '2026-12-01T09:00:00Z',
  })
  @ValidateBy({
    name: 'isFutureInstant',
    validator: {
      validate: (value: unknown) => {
        const at = instantParameter('reviewBy', value, []);
        return at !== undefined && at.getTime() > Date.now();
      },
      defaultMessage: () =>
        'reviewBy must be a future ISO 8601 date (2026-12-01) or date-time with a zone (2026-12-01T09:00:00Z)',
    },
  })
  reviewBy!: string;
}
