import { randomUUID } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CorrelationId, CurrentUser, Roles, type AuthenticatedUser, type Role } from '#common';
import { ReasonDto, ScopeDto } from '../http/scope.dto';
import { assertMayAct, SubjectIdPipe, uuidPipe, writeContext } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';

export class RaiseObjectionDto extends ScopeDto {
  @ApiProperty({ maxLength: 2000 })
  @IsString()
  @Matches(/\S/, { message: 'reason must not be blank' })
  @MaxLength(2000)
  reason!: string;
}

export class ObjectionDecisionDto extends ReasonDto {
  @ApiProperty({ enum: ['upheld', 'overruled'] })
  @IsIn(['upheld', 'overruled'])
  outcome!: 'upheld' | 'overruled';
}

const RAISERS: Role[] = ['social_worker', 'practitioner', 'service_user'];
// Deciding an objection is an IG decision (Caldicott principles), not a practitioner's.
const DECIDERS: Role[] = ['ig_officer', 'caldicott_guardian'];
type Headers_ = Record<string, string | string[] | undefined>;

@ApiTags('objections')
@Controller('v1/subjects/:subjectId/objections')
export class ObjectionsController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Post()
  @Roles(...RAISERS)
  @ApiCreatedResponse({ description: '`{objectionId, status: "pending", streamVersion}`' })
  async raise(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Body() body: RaiseObjectionDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ objectionId: string; status: 'pending'; streamVersion: number }> {
    assertMayAct(user, subjectId);
    const objectionId = randomUUID();
    const result = await this.stream.execute(
      subjectId,
      {
        type: 'raise-objection',
        objectionId,
        scope: {
          purposes: body.purposes,
          recipients: body.recipients,
          dataCategories: body.dataCategories,
        },
        reason: body.reason,
      },
      writeContext(user, RAISERS, correlationId, headers, { subjectId, body }),
      (streamVersion) => ({ objectionId, status: 'pending' as const, streamVersion }),
    );
    void reply.status(201).header('etag', `"${result.streamVersion}"`);
    return result.body;
  }

  @Post(':objectionId/decision')
  @HttpCode(200)
  @Roles(...DECIDERS)
  @ApiOkResponse({ description: '`{objectionId, status, streamVersion}`' })
  async decide(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Param('objectionId', uuidPipe('objectionId')) objectionId: string,
    @Body() body: ObjectionDecisionDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ objectionId: string; status: 'upheld' | 'overruled'; streamVersion: number }> {
    const result = await this.stream.execute(
      subjectId,
      { type: 'decide-objection', objectionId, outcome: body.outcome, reason: body.reason },
      writeContext(user, DECIDERS, correlationId, headers, { subjectId, objectionId, body }),
      (streamVersion) => ({ objectionId, status: body.outcome, streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }

  @Post(':objectionId/withdrawal')
  @HttpCode(200)
  @Roles(...RAISERS)
  @ApiOkResponse({ description: '`{objectionId, status: "withdrawn", streamVersion}`' })
  async withdraw(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Param('objectionId', uuidPipe('objectionId')) objectionId: string,
    @Body() body: ReasonDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
    @Headers() headers: Headers_,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ objectionId: string; status: 'withdrawn'; streamVersion: number }> {
    assertMayAct(user, subjectId);
    const result = await this.stream.execute(
      subjectId,
      { type: 'withdraw-objection', objectionId, reason: body.reason },
      writeContext(user, RAISERS, correlationId, headers, { subjectId, objectionId, body }),
      (streamVersion) => ({ objectionId, status: 'withdrawn' as const, streamVersion }),
    );
    void reply.header('etag', `"${result.streamVersion}"`);
    return result.body;
  }
}
