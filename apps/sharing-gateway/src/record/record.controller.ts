import { Controller, Get, Headers, Param, Query } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CorrelationId,
  CurrentUser,
  DATA_CATEGORY_NAMES,
  DomainError,
  isOneOf,
  PURPOSES,
  Roles,
  STATUTE_CODES,
  type AuthenticatedUser,
  type DataCategory,
  type FieldProblem,
  type Statute,
} from '#common';
import { MIN_BREAK_GLASS_REASON } from '../decisions/decision-request.dto';
import { DecisionService } from '../decisions/decision.service';
import { DECIDERS } from '../decisions/decisions.controller';
import { ODS_CODE, PRINCIPAL_ID, subjectIdPipe } from '../http/path-params.pipe';
import { RecordSource } from './record-source';

type Headers_ = Record<string, string | string[] | undefined>;

function header(headers: Headers_, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

@ApiTags('record')
@Controller('v1/subjects/:subjectId/record')
export class RecordController {
  constructor(
    private readonly decisions: DecisionService,
    private readonly source: RecordSource,
  ) {}

  /**
   * Decides, commits the decision and its audit event, and only then asks the record system:
   * no data leaves without a committed decision (fail closed).
   */
  @Get()
  @Roles(...DECIDERS)
  @ApiQuery({ name: 'purpose', enum: PURPOSES })
  @ApiQuery({ name: 'categories', description: 'Comma-separated data categories' })
  @ApiQuery({ name: 'recipientOrg', required: false })
  @ApiQuery({ name: 'onBehalfOf', required: false, description: 'For system callers' })
  @ApiHeader({ name: 'X-Break-Glass-Reason', required: false })
  @ApiHeader({ name: 'X-Break-Glass-Statute', required: false })
  @ApiOkResponse({
    description: '`{decisionId, subjectId, categories}` holding only permitted categories',
  })
  async read(
    @Param('subjectId', subjectIdPipe) subjectId: string,
    @Query() query: Record<string, unknown>,
    @Headers() headers: Headers_,
    @CurrentUser() caller: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const problems: FieldProblem[] = [];
    const known = new Set(['purpose', 'categories', 'recipientOrg', 'onBehalfOf']);
    for (const key of Object.keys(query)) {
      if (!known.has(key))
        problems.push({ field: key, problem: `${key} is not a known parameter` });
    }
    const purpose = query.purpose;
    if (!isOneOf(PURPOSES, purpose)) {
      problems.push({
        field: 'purpose',
        problem: `purpose must be one of: ${PURPOSES.join(', ')}`,
      });
    }
    const categoriesText = typeof query.categories === 'string' ? query.categories : '';
    const categories = categoriesText
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (categories.length === 0 || categories.length > DATA_CATEGORY_NAMES.length) {
      problems.push({
        field: 'categories',
        problem: 'categories must list 1 or more data categories, comma-separated',
      });
    } else if (!categories.every((c) => isOneOf(DATA_CATEGORY_NAMES, c))) {
      problems.push({
        field: 'categories',
        problem: `each category must be one of: ${DATA_CATEGORY_NAMES.join(', ')}`,
      });
    } else if (new Set(categories).size !== categories.length) {
      problems.push({ field: 'categories', problem: 'categories must not repeat a category' });
    }
    const recipientOrg = query.recipientOrg;
    if (
      recipientOrg !== undefined &&
      (typeof recipientOrg !== 'string' || !ODS_CODE.test(recipientOrg))
    ) {
      problems.push({ field: 'recipientOrg', problem: 'recipientOrg must be an ODS code' });
    }
    const onBehalfOf = query.onBehalfOf ?? header(headers, 'x-on-behalf-of');
    if (
      onBehalfOf !== undefined &&
      (typeof onBehalfOf !== 'string' || !PRINCIPAL_ID.test(onBehalfOf))
    ) {
      problems.push({ field: 'onBehalfOf', problem: 'onBehalfOf must be a user id' });
    }
    const reason = header(headers, 'x-break-glass-reason');
    const statute = header(headers, 'x-break-glass-statute');
    if (reason !== undefined || statute !== undefined) {
      if (
        reason === undefined ||
        reason.trim().length < MIN_BREAK_GLASS_REASON ||
        reason.length > 2000
      ) {
        problems.push({
          field: 'X-Break-Glass-Reason',
          problem: `X-Break-Glass-Reason must be ${MIN_BREAK_GLASS_REASON}-2000 characters saying why the override is needed`,
        });
      }
      if (!isOneOf(STATUTE_CODES, statute)) {
        problems.push({
          field: 'X-Break-Glass-Statute',
          problem: `X-Break-Glass-Statute must be one of: ${STATUTE_CODES.join(', ')}`,
        });
      }
    }
    if (problems.length > 0) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `The request is invalid: ${[...new Set(problems.map((p) => p.field))].join(', ')}.`,
        'invalid',
        problems,
      );
    }
    const stored = await this.decisions.decide({
      caller,
      subjectId,
      purposeOfUse: purpose as (typeof PURPOSES)[number],
      dataCategories: categories as DataCategory[],
      recipientOrg: (recipientOrg as string | undefined) ?? null,
      onBehalfOf: (onBehalfOf as string | undefined) ?? null,
      breakGlass: reason !== undefined ? { reason, statutoryBasis: statute as Statute } : null,
      channel: 'record',
      correlationId,
    });
    const decision = stored.decision;
    if (decision.permitted.length === 0) {
      throw new DomainError(
        'ACCESS_DENIED',
        decision.explanation,
        'forbidden',
        decision.denied.flatMap((d) =>
          d.reasons.map((r) => ({ field: d.category, problem: `${r.code}: ${r.message}` })),
        ),
        { decisionId: stored.decisionId, outcome: decision.outcome, denied: decision.denied },
      );
    }
    // The decision and its audit event are committed; only now is the record system asked.
    const record = await this.source.fetch(subjectId);
    const released: Record<string, unknown> = {};
    for (const category of decision.permitted) {
      if (category in record.categories) released[category] = record.categories[category];
    }
    return {
      decisionId: stored.decisionId,
      subjectId,
      outcome: decision.outcome,
      categories: released,
      denied: decision.denied,
      legalBasis: decision.legalBasis,
      obligations: decision.obligations,
    };
  }
}
