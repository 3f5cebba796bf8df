import { Body, Controller, Headers, Param, Put, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CorrelationId, CurrentUser, Roles, type AuthenticatedUser, type Role } from '#common';
import { assertMayAct, SubjectIdPipe, writeContext } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';

export class NationalOptOutDto {
  @ApiProperty()
  @IsBoolean()
  optedOut!: boolean;
}

export class ContactPreferencesDto {
  @ApiProperty({ enum: ['email', 'sms', 'letter'] })
  @IsIn(['email', 'sms', 'letter'])
  channel!: 'email' | 'sms' | 'letter';

  @ApiPropertyOptional()
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({
    example: '07700900123',
    description: 'A UK mobile number (07…, or +447…).',
  })
  @IsOptional()
  @IsString()
  @Matches(/^(?:\+447|07)\d{9}$/, {
    message: 'phone must be a UK mobile number such as 07700900123',
  })
  phone?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'address must not be blank' })
  @MaxLength(500)
  address?: string;
}

const OPT_OUT_SETTERS: Role[] = ['social_worker', 'service_user'];
type Headers_ = Record<string, string | string[] | undefined>;

@ApiTags('preferences')
@Controller('v1/subjects/:subjectId')
export class PreferencesController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Put('national-opt-out')
  @Roles(...OPT_OUT_SETTERS)
  @ApiOkResponse({ description: '`{nationalOptOut, streamVersion}`' })
  async setOptOut(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Body() body: NationalOptOutDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ nationalOptOut: boolean; streamVersion: number }> {
    assertMayAct(user, subjectId);
    const result = await this.stream.execute(
      subjectId,
      { type: 'set-national-opt-out', optedOut: body.optedOut },
      writeContext(user, OPT_OUT_SETTERS, correlationId, headers, { subjectId, body }),
      (streamVersion) => ({ nationalOptOut: body.optedOut, streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }

  @Put('contact-preferences')
  @Roles(...OPT_OUT_SETTERS)
  @ApiOkResponse({ description: '`{channel, streamVersion}`' })
  async setContact(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Body() body: ContactPreferencesDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ channel: string; streamVersion: number }> {
    assertMayAct(user, subjectId);
    const result = await this.stream.execute(
      subjectId,
      {
        type: 'set-contact-preferences',
        channel: body.channel,
        email: body.email,
        phone: body.phone,
        address: body.address,
      },
      writeContext(user, OPT_OUT_SETTERS, correlationId, headers, { subjectId, body }),
      (streamVersion) => ({ channel: body.channel, streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }
}
