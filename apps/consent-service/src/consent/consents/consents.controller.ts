import { randomUUID } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CorrelationId, CurrentUser, Roles, type AuthenticatedUser, type Role } from '#common';
import { assertMayAct, SubjectIdPipe, uuidPipe, writeContext } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';
import { RecordConsentDto, WithdrawalDto } from './record-consent.dto';

const RECORDERS: Role[] = ['social_worker', 'practitioner'];
const WITHDRAWERS: Role[] = ['social_worker', 'practitioner', 'service_user'];

type Headers_ = Record<string, string | string[] | undefined>;

@ApiTags('consents')
@ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'Expected stream version, e.g. "3"; 412 when stale.',
})
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'A repeat returns the first result and records nothing.',
})
@Controller('v1/subjects/:subjectId/consents')
export class ConsentsController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Post()
  @Roles(...RECORDERS)
  @ApiCreatedResponse({
    description: '`{consentId, streamVersion}` and `ETag: "<streamVersion>"`.',
  })
  async record(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Body() body: RecordConsentDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ consentId: string; streamVersion: number }> {
    const consentId = randomUUID();
    const result = await this.stream.execute(
      subjectId,
      {
        type: 'record-consent',
        consentId,
        decision: body.decision,
        scope: {
          purposes: body.purposes,
          recipients: body.recipients,
          dataCategories: body.dataCategories,
        },
        validFrom: body.validFrom
          ? new Date(body.validFrom).toISOString()
          : new Date().toISOString(),
        validUntil: body.validUntil ? new Date(body.validUntil).toISOString() : null,
        capture: { ...body.capture },
        evidenceRef: body.evidenceRef ?? null,
        notes: body.notes ?? null,
      },
      writeContext(user, RECORDERS, correlationId, headers, { subjectId, body }),
      (streamVersion) => ({ consentId, streamVersion }),
    );
    void reply.status(201).header('etag', `"${result.streamVersion}"`);
    return result.body;
  }

  @Post(':consentId/withdrawal')
  @HttpCode(200)
  @Roles(...WITHDRAWERS)
  @ApiOkResponse({ description: '`{streamVersion}`' })
  async withdraw(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Param('consentId', uuidPipe('consentId')) consentId: string,
    @Body() body: WithdrawalDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ streamVersion: number }> {
    assertMayAct(user, subjectId);
    const result = await this.stream.execute(
      subjectId,
      { type: 'withdraw-consent', consentId, reason: body.reason },
      writeContext(user, WITHDRAWERS, correlationId, headers, { subjectId, consentId, body }),
      (streamVersion) => ({ streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }
}
