import { randomUUID } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CorrelationId, CurrentUser, Roles, type AuthenticatedUser, type Role } from '#common';
import { IsAfter, ReasonDto } from '../http/scope.dto';
import { SubjectIdPipe, uuidPipe, writeContext } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';

export class RegisterProxyDto {
  @ApiProperty({ enum: ['lpa-health-welfare', 'deputy', 'parent'] })
  @IsIn(['lpa-health-welfare', 'deputy', 'parent'])
  kind!: 'lpa-health-welfare' | 'deputy' | 'parent';

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    maxLength: 100,
    description: 'OPG registration or Court of Protection order reference.',
  })
  @IsString()
  @Matches(/\S/, { message: 'reference must not be blank' })
  @MaxLength(100)
  reference!: string;

  @ApiProperty({ format: 'date-time' })
  @IsISO8601({ strict: true, strictSeparator: true })
  validFrom!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @IsAfter('validFrom')
  validUntil?: string;
}

const REGISTRARS: Role[] = ['social_worker', 'practitioner'];
type Headers_ = Record<string, string | string[] | undefined>;

@ApiTags('proxies')
@Controller('v1/subjects/:subjectId/proxies')
export class ProxiesController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Post()
  @Roles(...REGISTRARS)
  @ApiCreatedResponse({ description: '`{proxyId, streamVersion}`' })
  async register(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Body() body: RegisterProxyDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ proxyId: string; streamVersion: number }> {
    const proxyId = randomUUID();
    const result = await this.stream.execute(
      subjectId,
      {
        type: 'register-proxy',
        proxyId,
        kind: body.kind,
        name: body.name,
        reference: body.reference,
        validFrom: new Date(body.validFrom).toISOString(),
        validUntil: body.validUntil ? new Date(body.validUntil).toISOString() : null,
      },
      writeContext(user, REGISTRARS, correlationId, headers, { subjectId, body }),
      (streamVersion) => ({ proxyId, streamVersion }),
    );
    void reply.status(201).header('etag', `"${result.streamVersion}"`);
    return result.body;
  }

  @Post(':proxyId/revocation')
  @HttpCode(200)
  @Roles(...REGISTRARS)
  @ApiOkResponse({ description: '`{streamVersion}`' })
  async revoke(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Param('proxyId', uuidPipe('proxyId')) proxyId: string,
    @Body() body: ReasonDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ streamVersion: number }> {
    const result = await this.stream.execute(
      subjectId,
      { type: 'revoke-proxy', proxyId, reason: body.reason },
      writeContext(user, REGISTRARS, correlationId, headers, { subjectId, proxyId, body }),
      (streamVersion) => ({ streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }
}
