import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource, type EntityManager } from 'typeorm';
import { Roles, type FieldProblem } from '#common';
import { toCsv } from '../../log/query/entry-view';
import { localTime } from '../confidentiality/flags';
import { instantParameter, invalidInput, unknownParameters } from '../../http/query-params';
import { ReportSettings } from '../report-settings';
import {
  recertificationDue,
  type GrantRecord,
  type RecertificationRow,
  type UserRecord,
} from './recertification-due';

export const RECERTIFICATION_CSV_COLUMNS = [
  'reason',
  'userId',
  'org',
  'accountEndsOn',
  'grantId',
  'purpose',
  'validUntil',
  'approvedBy',
  'lastRecertifiedAt',
  'recertificationDueAt',
  'seq',
];

/**
 * User access recertification (IG Toolkit; the non-standard user access protocol): accounts
 * about to end and access grants due for their two-monthly reconfirmation, read from the
 * gateway's reference-data changes in the log (the latest entry for each user and grant).
 */
@ApiTags('reports')
@Controller('v1/reports/recertification')
export class RecertificationController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: ReportSettings,
  ) {}

  @Get()
  @Roles('ig_officer', 'caldicott_guardian')
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: 'ISO 8601; default now. Reads the log up to this instant when it is past.',
  })
  @ApiOkResponse({
    description:
      '`[{reason, userId, org, accountEndsOn, grantId, purpose, validUntil, approvedBy, lastRecertifiedAt, recertificationDueAt, seq}]`, soonest first; CSV with Accept: text/csv',
  })
  async report(
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecertificationRow[] | string> {
    const problems: FieldProblem[] = unknownParameters(query, ['asOf']);
    const asOf = instantParameter('asOf', query.asOf, problems) ?? new Date();
    if (problems.length > 0) throw invalidInput(problems);
    const { users, grants } = await this.dataSource.transaction('REPEATABLE READ', async (tx) => ({
      users: await latestUsers(tx, asOf),
      grants: await latestGrants(tx, asOf),
    }));
    const today = localTime(asOf, this.settings.workingTime.timeZone).date;
    const rows = recertificationDue(users, grants, asOf, today);
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(rows as unknown as Record<string, unknown>[], RECERTIFICATION_CSV_COLUMNS);
    }
    return rows;
  }
}

/** Each user as the latest `gateway.user.set` entry up to `asOf` describes them. */
async function latestUsers(tx: EntityManager, asOf: Date): Promise<UserRecord[]> {
  const rows: (Omit<UserRecord, 'seq'> & { seq: string })[] = await tx.query(
    `SELECT DISTINCT ON (entry->'details'->>'userId')
            seq::text AS seq, entry->'details'->>'userId' AS "userId",
            entry->'details'->>'org' AS org,
            entry->'details'->>'accountEndsOn' AS "accountEndsOn"
       FROM audit.entries
      WHERE action = 'gateway.user.set' AND entry->'details'->>'userId' IS NOT NULL
        AND at <= $1
      ORDER BY entry->'details'->>'userId', seq DESC`,
    [asOf.toISOString()],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Each access grant as the latest entry about it up to `asOf` describes it. */
async function latestGrants(tx: EntityManager, asOf: Date): Promise<GrantRecord[]> {
  const rows: (Omit<GrantRecord, 'seq'> & { seq: string })[] = await tx.query(
    `SELECT DISTINCT ON (entry->'details'->>'grantId')
            seq::text AS seq, entry->>'at' AS at,
            entry->'details'->>'grantId' AS "grantId",
            entry->'details'->>'userId' AS "userId",
            entry->'details'->>'purpose' AS purpose,
            entry->'details'->>'validUntil' AS "validUntil",
            entry->'details'->>'approvedBy' AS "approvedBy"
       FROM audit.entries
      WHERE action = 'gateway.access-grant.created'
        AND entry->'details'->>'grantId' IS NOT NULL AND at <= $1
      ORDER BY entry->'details'->>'grantId', seq DESC`,
    [asOf.toISOString()],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
