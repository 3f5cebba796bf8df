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
  notification: null | { status: string };
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
        notification: null,
        proof: `/v1/audit/entries/${entry.seq}/proof`,
      };
    });
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(disclosures as unknown as Record<string, unknown>[], [
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
    return disclosures;
  }
}
