import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
} from '#common';
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

/** The disclosure register: every time a person's record left the gateway, and on what basis. */
@ApiTags('disclosures')
@Controller('v1/subjects/:subjectId/disclosures')
export class DisclosuresController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Roles('ig_officer', 'caldicott_guardian', 'service_user')
  @ApiOkResponse({
    description: 'The person’s disclosures, newest first; CSV with Accept: text/csv',
  })
  async list(
    @Param('subjectId') subjectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisclosureView[] | string> {
    if (!isValidNhsNumber(subjectId)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: subjectId.', 'invalid', [
        { field: 'subjectId', problem: 'subjectId must be a valid NHS number' },
      ]);
    }
    const staff = user.roles.some((r) => r === 'ig_officer' || r === 'caldicott_guardian');
    if (!staff && !canActOnSubject(user, subjectId)) {
      throw new DomainError(
        'NOT_YOUR_RECORD',
        'You may see only your own disclosures.',
        'forbidden',
      );
    }
    const rows: { entry: LogEntry }[] = await this.dataSource.query(
      `SELECT entry FROM audit.entries
        WHERE subject_id = $1 AND action = 'record.disclosed'
        ORDER BY seq DESC LIMIT 1000`,
      [subjectId],
    );
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
