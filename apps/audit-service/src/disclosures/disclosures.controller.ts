import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  canActOnSubject,
  CONSENT_BASIS,
  CurrentUser,
  DomainError,
  isValidNhsNumber,
  Roles,
  type AuthenticatedUser,
  type FieldProblem,
} from '#common';
import { invalidInput, wholeNumberParameter } from '../http/query-params';
import type { LogEntry } from '../log/ingest/entry-from-event';
import { toCsv } from '../log/query/entry-view';

export interface DisclosureView {
  seq: number;
  at: string;
  decisionId: string;
  recipientOrg: string;
  recipientRole: string | null;
  purpose: string | null;
  categories: string[];
  legalBasis: LogEntry['legalBasis'];
  /** Shared on a basis other than the person's consent (public task, statute, override). */
  withoutConsent: boolean;
  breakGlass: boolean;
  /** The override whose window this disclosure was made in, if any. */
  breakGlassWindowId: string | null;
  /**
   * The notice telling the person of this disclosure, when it obliged one: an override's own,
   * which also covers reads made inside the override's window.
   */
  notification: null | { id: string; status: string; sentAt?: string };
  /** Where the person can fetch an inclusion proof of this entry. */
  proof: string;
}

/** The most disclosures one page of the register holds, and how many it holds unless asked. */
const MAX_PAGE = 1000;

/** The disclosure register: every time a person's record left the gateway, and on what basis. */
@ApiTags('disclosures')
@Controller('v1/subjects/:subjectId/disclosures')
export class DisclosuresController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Roles('ig_officer', 'caldicott_guardian', 'service_user')
  @ApiQuery({
    name: 'cursor',
    required: false,
    description: 'X-Next-Cursor of the previous page: the disclosures before it',
  })
  @ApiQuery({ name: 'limit', required: false, description: `1-${MAX_PAGE}, default ${MAX_PAGE}` })
  @ApiOkResponse({
    description:
      'The person’s disclosures, newest first; CSV with Accept: text/csv. When more follow, ' +
      'the X-Next-Cursor header holds the cursor of the next page.',
  })
  async list(
    @Param('subjectId') subjectId: string,
    @Query('cursor') cursorText: string | undefined,
    @Query('limit') limitText: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisclosureView[] | string> {
    const problems: FieldProblem[] = [];
    if (!isValidNhsNumber(subjectId)) {
      problems.push({ field: 'subjectId', problem: 'subjectId must be a valid NHS number' });
    }
    const cursor = wholeNumberParameter('cursor', cursorText, problems) ?? null;
    const limit = wholeNumberParameter('limit', limitText, problems) ?? MAX_PAGE;
    if (limit < 1 || limit > MAX_PAGE) {
      problems.push({ field: 'limit', problem: `limit must be 1-${MAX_PAGE}` });
    }
    if (problems.length > 0) throw invalidInput(problems);
    const staff = user.roles.some((r) => r === 'ig_officer' || r === 'caldicott_guardian');
    if (!staff && !canActOnSubject(user, subjectId)) {
      throw new DomainError(
        'NOT_YOUR_RECORD',
        'You may see only your own disclosures.',
        'forbidden',
      );
    }
    const found: { entry: LogEntry }[] = await this.dataSource.query(
      `SELECT entry FROM audit.entries
        WHERE subject_id = $1 AND action = 'record.disclosed'
          AND ($2::bigint IS NULL OR seq < $2)
        ORDER BY seq DESC LIMIT $3`,
      [subjectId, cursor, limit + 1],
    );
    const rows = found.slice(0, limit);
    // The cursor is the page's last entry, whether or not the person may see it yet (see
    // `visible`): the next page starts after it either way.
    if (found.length > limit) {
      void reply.header('x-next-cursor', String(rows[rows.length - 1].entry.seq));
    }
    const notices = await this.noticesFor(rows.map(({ entry }) => entry));
    const disclosures = rows.map(({ entry }): DisclosureView => {
      const details = entry.details as {
        decisionId: string;
        recipientOrg: string;
        requesterRoles?: string[];
        breakGlass?: unknown;
        breakGlassWindowId?: string | null;
      };
      const basis = (entry.legalBasis ?? {}) as { article6?: string | null };
      return {
        seq: entry.seq,
        at: entry.at,
        decisionId: details.decisionId,
        recipientOrg: details.recipientOrg,
        recipientRole: entry.actor?.role ?? details.requesterRoles?.[0] ?? null,
        purpose: entry.purpose,
        categories: entry.categories,
        legalBasis: entry.legalBasis,
        withoutConsent: basis.article6 !== CONSENT_BASIS,
        breakGlass: Boolean(details.breakGlass) || Boolean(details.breakGlassWindowId),
        breakGlassWindowId: details.breakGlassWindowId ?? null,
        notification: noticeView(
          notices.get(details.decisionId) ??
            (details.breakGlassWindowId ? notices.get(details.breakGlassWindowId) : undefined),
          staff,
        ),
        proof: `/v1/audit/entries/${entry.seq}/proof`,
      };
    });
    // While an IG officer holds a notice back, the person must not learn of the disclosure
    // from their own register either: that would defeat the deferral (risk of harm, or an
    // investigation prejudiced). It appears once the notice is released.
    const visible = staff
      ? disclosures
      : disclosures.filter((d) => {
          const notice =
            notices.get(d.decisionId) ??
            (d.breakGlassWindowId ? notices.get(d.breakGlassWindowId) : undefined);
          return notice?.status !== 'deferred';
        });
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(visible as unknown as Record<string, unknown>[], [
        'seq',
        'at',
        'recipientOrg',
        'recipientRole',
        'purpose',
        'categories',
        'legalBasis',
        'withoutConsent',
        'breakGlass',
      ]);
    }
    return visible;
  }

  /** The notices of these entries' decisions and override windows, by decision id. */
  private async noticesFor(entries: LogEntry[]): Promise<Map<string, NoticeRow>> {
    const ids = new Set<string>();
    for (const entry of entries) {
      const { decisionId, breakGlassWindowId } = entry.details as {
        decisionId?: unknown;
        breakGlassWindowId?: unknown;
      };
      for (const id of [decisionId, breakGlassWindowId]) {
        if (typeof id === 'string' && UUID.test(id)) ids.add(id);
      }
    }
    if (ids.size === 0) return new Map();
    const rows: NoticeRow[] = await this.dataSource.query(
      `SELECT decision_id::text AS decision_id, id, status, sent_at FROM audit.notifications
        WHERE decision_id = ANY($1::uuid[])`,
      [[...ids]],
    );
    return new Map(rows.map((r) => [r.decision_id, r]));
  }
}

interface NoticeRow {
  decision_id: string;
  id: string;
  status: string;
  sent_at: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A deferred notice is shown to IG staff only: telling the person a notice is being held back
 * would tell them what the deferral protects.
 */
function noticeView(notice: NoticeRow | undefined, staff: boolean): DisclosureView['notification'] {
  if (!notice || (!staff && notice.status === 'deferred')) return null;
  return {
    id: notice.id,
    status: notice.status,
    ...(notice.sent_at ? { sentAt: notice.sent_at.toISOString() } : {}),
  };
}
