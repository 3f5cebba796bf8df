import { BadRequestException, Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, Roles, STAFF_ROLES, type AuthenticatedUser, type Role } from '#common';
import { consentStatus, evolve, initialState, type SubjectState } from '../domain/state';
import { summarise } from '../domain/summary';
import { assertMayAct, SubjectIdPipe } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';

const READERS: Role[] = [...STAFF_ROLES, 'system', 'service_user'];

/** The state as the API shows it: each consent with its standing at the instant asked. */
export function stateView(state: SubjectState, at: Date) {
  return {
    subjectId: state.subjectId,
    streamVersion: state.streamVersion,
    asOf: at.toISOString(),
    consents: state.consents.map((c) => ({ ...c, status: consentStatus(c, at) })),
    objections: state.objections,
    nationalOptOut: state.nationalOptOut,
    contactPreferences: state.contactPreferences,
    proxies: state.proxies,
  };
}

function parseAsOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime())) {
    throw new BadRequestException({
      error: 'VALIDATION_FAILED',
      message: 'The request is invalid: asOf.',
      details: [
        {
          field: 'asOf',
          problem: 'asOf must be an ISO 8601 date-time such as 2026-03-03T10:00:00Z',
        },
      ],
    });
  }
  return at;
}

@ApiTags('consent state')
@Controller('v1/subjects/:subjectId')
export class ConsentStateController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Get('consent-state')
  @Roles(...READERS)
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: 'An instant; the state then, by replay of the log.',
  })
  @ApiOkResponse({
    description: '`{subjectId, streamVersion, asOf, consents[], objections[], nationalOptOut}`',
  })
  async state(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @Query('asOf') asOfParam: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    assertMayAct(user, subjectId);
    const asOf = parseAsOf(asOfParam);
    const state = asOf
      ? await this.stream.asOf(subjectId, asOf)
      : await this.stream.current(subjectId);
    void reply.header('etag', `"${state.streamVersion}"`);
    return stateView(state, asOf ?? new Date());
  }

  @Get('history')
  @Roles(...READERS)
  @ApiOkResponse({
    description: '`[{streamVersion, type, occurredAt, actor, summary}]`, summary in plain English',
  })
  async history(
    @Param('subjectId', SubjectIdPipe) subjectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    assertMayAct(user, subjectId);
    const events = await this.stream.events(subjectId);
    let state = initialState(subjectId);
    return events.map((event) => {
      const summary = summarise(event, state);
      state = evolve(state, event);
      const { userId, org, role, name } = event.metadata.actor;
      return {
        streamVersion: event.streamVersion,
        type: event.type,
        occurredAt: event.recordedAt,
        actor: { userId, org, role, ...(name ? { name } : {}) },
        summary,
      };
    });
  }
}
