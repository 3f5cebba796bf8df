import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  OutboxWriter,
  Roles,
  type AuthenticatedUser,
  type FieldProblem,
} from '#common';
import { invalidInput, wholeNumberParameter } from '../http/query-params';
import type { LogEntry } from '../log/ingest/entry-from-event';
import { toCsv } from '../log/query/entry-view';

const REVIEWERS = ['ig_officer', 'caldicott_guardian'] as const;

export class ReviewDto {
  @ApiProperty({ enum: ['appropriate', 'inappropriate'] })
  @IsIn(['appropriate', 'inappropriate'], {
    message: 'outcome must be one of: appropriate, inappropriate',
  })
  outcome!: 'appropriate' | 'inappropriate';

  @ApiProperty({ description: 'The reviewer’s notes (kept with the review, not in the log)' })
  @IsString()
  @Length(1, 4000)
  notes!: string;
}

interface OverrideRow {
  seq: string;
  entry: LogEntry;
  review_outcome: string | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
}

/**
 * An override is the decision that opened a window (details.breakGlass is set). The partial
 * indexes of migration 1764700000000 are on exactly this condition: a query must say it the same
 * way for PostgreSQL to use them.
 */
const IS_OVERRIDE = `jsonb_typeof(entry->'details'->'breakGlass') = 'object'`;

/** The most overrides one page of the list holds, and how many it holds unless asked. */
const MAX_PAGE = 1000;

/**
 * Overrides oldest first with their reviews: $1 'reviewed', 'unreviewed' or null, after seq $2
 * (a page's cursor), at most $3. Read through the index of overrides alone (migration
 * 1764700000000), never the whole log.
 */
export const OVERRIDES_SQL = `
  SELECT e.seq::text AS seq, e.entry, r.outcome AS review_outcome, r.reviewed_by, r.reviewed_at
    FROM audit.entries e
    LEFT JOIN audit.break_glass_reviews r ON r.decision_id = (e.entry->'details'->>'decisionId')::uuid
   WHERE ${IS_OVERRIDE} AND e.seq > $2
     AND ($1::text IS NULL OR ($1 = 'reviewed') = (r.decision_id IS NOT NULL))
   ORDER BY e.seq LIMIT $3`;

/** The person an override ($1, its decision id in lower case) was about, by the same index. */
export const OVERRIDE_SUBJECT_SQL = `
  SELECT subject_id FROM audit.entries
   WHERE entry->'details'->>'decisionId' = $1 AND ${IS_OVERRIDE}
   LIMIT 1`;

/** Safeguarding overrides and their mandatory IG review. */
@ApiTags('reports')
@Controller('v1/reports/break-glass')
export class BreakGlassController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  @Get()
  @Roles(...REVIEWERS)
  @ApiQuery({ name: 'status', required: false, enum: ['unreviewed', 'reviewed'] })
  @ApiQuery({
    name: 'cursor',
    required: false,
    description: 'X-Next-Cursor of the previous page: the overrides after it',
  })
  @ApiQuery({ name: 'limit', required: false, description: `1-${MAX_PAGE}, default ${MAX_PAGE}` })
  @ApiOkResponse({
    description:
      'Overrides, oldest first; CSV with Accept: text/csv. When more follow, the X-Next-Cursor ' +
      'header holds the cursor of the next page.',
  })
  async list(
    @Query('status') status: string | undefined,
    @Query('cursor') cursorText: string | undefined,
    @Query('limit') limitText: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>[] | string> {
    const problems: FieldProblem[] = [];
    if (status !== undefined && status !== 'unreviewed' && status !== 'reviewed') {
      problems.push({ field: 'status', problem: 'status must be one of: unreviewed, reviewed' });
    }
    const cursor = wholeNumberParameter('cursor', cursorText, problems) ?? 0;
    const limit = wholeNumberParameter('limit', limitText, problems) ?? MAX_PAGE;
    if (limit < 1 || limit > MAX_PAGE) {
      problems.push({ field: 'limit', problem: `limit must be 1-${MAX_PAGE}` });
    }
    if (problems.length > 0) throw invalidInput(problems);
    const found: OverrideRow[] = await this.dataSource.query(OVERRIDES_SQL, [
      status ?? null,
      cursor,
      limit + 1,
    ]);
    const rows = found.slice(0, limit);
    if (found.length > limit) void reply.header('x-next-cursor', rows[rows.length - 1].seq);
    const list = rows.map((r) => {
      const d = r.entry.details as {
        decisionId: string;
        breakGlass: { statute: string; windowClosesAt: string };
        recipientOrg: string;
      };
      return {
        decisionId: d.decisionId,
        seq: Number(r.seq),
        at: r.entry.at,
        requester: r.entry.actor,
        subjectId: r.entry.subjectId,
        purpose: r.entry.purpose,
        categories: r.entry.categories,
        statute: d.breakGlass.statute,
        windowClosesAt: d.breakGlass.windowClosesAt,
        recipientOrg: d.recipientOrg,
        status: r.review_outcome ? 'reviewed' : 'unreviewed',
        review: r.review_outcome
          ? { outcome: r.review_outcome, by: r.reviewed_by, at: r.reviewed_at?.toISOString() }
          : null,
      };
    });
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(
        list.map((l) => ({ ...l, requesterId: l.requester?.userId, review: l.review?.outcome })),
        [
          'decisionId',
          'seq',
          'at',
          'requesterId',
          'subjectId',
          'purpose',
          'categories',
          'statute',
          'recipientOrg',
          'status',
          'review',
        ],
      );
    }
    return list;
  }

  @Post(':decisionId/review')
  @HttpCode(200)
  @Roles(...REVIEWERS)
  @ApiOkResponse({ description: 'The review, recorded once; it becomes a log entry itself.' })
  async review(
    @Param('decisionId') decisionId: string,
    @Body() body: ReviewDto,
    @CurrentUser() reviewer: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    if (
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(decisionId)
    ) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: decisionId.', 'invalid', [
        { field: 'decisionId', problem: 'decisionId must be a UUID' },
      ]);
    }
    return this.dataSource.transaction(async (tx) => {
      const found: { subject_id: string }[] = await tx.query(OVERRIDE_SUBJECT_SQL, [
        decisionId.toLowerCase(),
      ]);
      if (found.length === 0) {
        throw new DomainError(
          'OVERRIDE_NOT_FOUND',
          `No safeguarding override ${decisionId} is in the log (it may not have arrived yet).`,
          'not-found',
        );
      }
      const inserted: { reviewed_at: Date }[] = await tx.query(
        `INSERT INTO audit.break_glass_reviews (decision_id, outcome, notes, reviewed_by)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING reviewed_at`,
        [decisionId.toLowerCase(), body.outcome, body.notes, reviewer.userId],
      );
      if (inserted.length === 0) {
        throw new DomainError(
          'ALREADY_REVIEWED',
          `Override ${decisionId} has already been reviewed.`,
          'conflict',
        );
      }
      const role =
        reviewer.roles.find((r) => (REVIEWERS as readonly string[]).includes(r)) ??
        reviewer.roles[0];
      await this.outbox.append(tx, [
        {
          type: 'audit.break-glass.reviewed.v1',
          streamId: `break-glass-review-${decisionId.toLowerCase()}`,
          streamVersion: 1,
          subjectId: found[0].subject_id,
          actor: { userId: reviewer.userId, org: reviewer.org, role },
          correlationId,
          causationId: null,
          // The notes are the reviewer's free text: kept in the review table, not published.
          data: { decisionId: decisionId.toLowerCase(), outcome: body.outcome },
        },
      ]);
      return {
        decisionId: decisionId.toLowerCase(),
        outcome: body.outcome,
        reviewedBy: reviewer.userId,
        reviewedAt: inserted[0].reviewed_at.toISOString(),
      };
    });
  }
}
