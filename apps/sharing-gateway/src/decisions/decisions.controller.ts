import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  Roles,
  STAFF_ROLES,
  type AuthenticatedUser,
  type Role,
} from '#common';
import { uuidPipe } from '../http/path-params.pipe';
import { DecisionRequestDto } from './decision-request.dto';
import { decisionResponse, DecisionService, type StoredDecision } from './decision.service';

/** Who may ask for a decision: staff for themselves, systems on behalf of a user. */
export const DECIDERS: Role[] = [...STAFF_ROLES, 'system'];

@ApiTags('decisions')
@Controller('v1/decisions')
export class DecisionsController {
  constructor(private readonly decisions: DecisionService) {}

  @Post()
  @HttpCode(200)
  @Roles(...DECIDERS)
  @ApiOkResponse({
    description:
      '`{decisionId, outcome, permitted[], denied[{category, reasons[{code, message}]}], legalBasis, obligations[], consentVersion, policyVersion, explanation}`, returned only once the decision and its audit event are committed.',
  })
  async decide(
    @Body() body: DecisionRequestDto,
    @CurrentUser() caller: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const stored = await this.decisions.decide({
      caller,
      subjectId: body.subjectId,
      purposeOfUse: body.purposeOfUse,
      dataCategories: body.dataCategories,
      recipientOrg: body.recipientOrg ?? null,
      onBehalfOf: body.onBehalfOf ?? null,
      breakGlass: body.breakGlass
        ? { reason: body.breakGlass.reason, statutoryBasis: body.breakGlass.statutoryBasis }
        : null,
      channel: 'decision',
      correlationId,
    });
    return decisionResponse(stored);
  }

  @Get(':decisionId')
  @Roles(...DECIDERS)
  @ApiOkResponse({ description: 'The stored decision with its request and facts.' })
  async get(
    @Param('decisionId', uuidPipe('decisionId')) decisionId: string,
    @CurrentUser() caller: AuthenticatedUser,
  ): Promise<StoredDecision> {
    const stored = await this.decisions.find(decisionId);
    const own =
      stored.request.requesterUserId === caller.userId || stored.caller.userId === caller.userId;
    if (!own && !caller.roles.includes('ig_officer')) {
      // The same answer as for a decision that does not exist: ids are not probed.
      throw new DomainError('DECISION_NOT_FOUND', `No decision ${decisionId} exists.`, 'not-found');
    }
    return stored;
  }

  @Post(':decisionId/replay')
  @HttpCode(200)
  @Roles('ig_officer')
  @ApiOkResponse({ description: '`{decisionId, matches, original, replayed}`' })
  replay(
    @Param('decisionId', uuidPipe('decisionId')) decisionId: string,
  ): Promise<{ decisionId: string; matches: boolean }> {
    return this.decisions.replay(decisionId);
  }
}
