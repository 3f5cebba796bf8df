import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { isOneOf, isValidNhsNumber, Roles, type FieldProblem } from '#common';
import { invalidInput, unknownParameters } from '../../http/query-params';
import { notificationIdOf, notificationNotFound } from '../notification-id';
import { readNotifications, type NotificationView } from '../notification-view';

export const NOTIFICATION_READERS = ['ig_officer', 'caldicott_guardian'] as const;
const STATUSES = ['pending', 'sent', 'failed', 'deferred'] as const;

function page(query: Record<string, unknown>, problems: FieldProblem[]) {
  const whole = (field: string): number | undefined => {
    const value = query[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
      problems.push({ field, problem: `${field} must be a whole number` });
      return undefined;
    }
    return Number(value);
  };
  const cursor = whole('cursor') ?? 0;
  const limit = whole('limit') ?? 100;
  if (limit < 1 || limit > 1000) problems.push({ field: 'limit', problem: 'limit must be 1-1000' });
  return { cursor, limit };
}

/** Pages of notifications, oldest first; the next page's cursor travels in X-Next-Cursor. */
function withNextCursor(
  reply: FastifyReply,
  { views, seqs }: { views: NotificationView[]; seqs: number[] },
  limit: number,
): NotificationView[] {
  if (views.length > limit) void reply.header('x-next-cursor', String(seqs[limit - 1]));
  return views.slice(0, limit);
}

/** Disclosure notices to service users, for IG officers to follow up. */
@ApiTags('notifications')
@Controller('v1/notifications')
export class NotificationsController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Roles(...NOTIFICATION_READERS)
  @ApiQuery({ name: 'status', required: false, enum: STATUSES })
  @ApiQuery({ name: 'subjectId', required: false, description: 'NHS number' })
  @ApiQuery({ name: 'cursor', required: false, description: 'X-Next-Cursor of the last page' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({
    description:
      'Notifications, oldest first: `[{id, decisionId, subjectId, status, dueAt, attempts, channel, sentAt, failureReason, lastError, disclosure, deferral, releasedAt, ...}]`. ' +
      'A notice with no contact details is `failed` with failureReason `no-contact-details`, and is tried again when the person sets contact preferences. ' +
      'The next page’s cursor is in the X-Next-Cursor header.',
  })
  async list(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<NotificationView[]> {
    const problems = unknownParameters(query, ['status', 'subjectId', 'cursor', 'limit']);
    const { status, subjectId } = query;
    if (status !== undefined && !isOneOf(STATUSES, status)) {
      problems.push({ field: 'status', problem: `status must be one of: ${STATUSES.join(', ')}` });
    }
    if (subjectId !== undefined && !isValidNhsNumber(subjectId)) {
      problems.push({ field: 'subjectId', problem: 'subjectId must be a valid NHS number' });
    }
    const { cursor, limit } = page(query, problems);
    if (problems.length > 0) throw invalidInput(problems);
    const found = await readNotifications(
      this.dataSource,
      `($1::text IS NULL OR n.status = $1) AND ($2::text IS NULL OR n.subject_id = $2) AND n.seq > $3`,
      [status ?? null, subjectId ?? null, cursor],
      limit + 1,
    );
    return withNextCursor(reply, found, limit);
  }

  @Get('deferral-reviews')
  @Roles(...NOTIFICATION_READERS)
  @ApiQuery({ name: 'cursor', required: false, description: 'X-Next-Cursor of the last page' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({
    description:
      'Deferrals due for review: notices whose deferral review date has passed, so they became due again (and were then sent, or failed, unless deferred anew). ' +
      'Each shows its deferral (reason, reviewBy, deferredBy), releasedAt, its status now and sentAt. Oldest first; X-Next-Cursor for the next page. ' +
      'Deferrals still in force are listed by GET /v1/notifications?status=deferred.',
  })
  async deferralReviews(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<NotificationView[]> {
    const problems = unknownParameters(query, ['cursor', 'limit']);
    const { cursor, limit } = page(query, problems);
    if (problems.length > 0) throw invalidInput(problems);
    const found = await readNotifications(
      this.dataSource,
      `n.released_at IS NOT NULL AND n.status <> 'deferred' AND n.seq > $1`,
      [cursor],
      limit + 1,
    );
    return withNextCursor(reply, found, limit);
  }

  @Get(':id')
  @Roles(...NOTIFICATION_READERS)
  @ApiOkResponse({ description: 'One notification' })
  async get(@Param('id') id: string): Promise<NotificationView> {
    const { views } = await readNotifications(
      this.dataSource,
      `n.id = $1`,
      [notificationIdOf(id)],
      1,
    );
    if (views.length === 0) throw notificationNotFound(id);
    return views[0];
  }
}
