import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Roles } from '#common';
import { toCsv } from '../../log/query/entry-view';
import { readPeriod } from '../../http/query-params';
import { ReportSettings } from '../report-settings';
import { informationFlows, type DisclosureGroup, type InformationFlow } from './flow-register';

export const FLOWS_CSV_COLUMNS = [
  'fromOrg',
  'toOrg',
  'purpose',
  'categories',
  'article6',
  'article9',
  'statutes',
  'agreementIds',
  'basisSource',
  'count',
];

/**
 * The information flow register (IG Toolkit requirement 202): every flow of records out of the
 * gateway, with its legal basis. A flow is a disclosure (`record.disclosed`: data left the
 * gateway); a decision the caller asked for on its own (`access.decided`) released nothing.
 */
@ApiTags('reports')
@Controller('v1/reports/information-flows')
export class InformationFlowsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: ReportSettings,
  ) {}

  @Get()
  @Roles('ig_officer', 'caldicott_guardian')
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' })
  @ApiOkResponse({
    description:
      '`[{fromOrg, toOrg, purpose, categories, legalBasis, count}]`; fromOrg is RECORD_HOLDER_ODS; CSV with Accept: text/csv',
  })
  async report(
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InformationFlow[] | string> {
    const period = readPeriod(query);
    const groups: DisclosureGroup[] = await this.dataSource.query(
      `SELECT entry->'details'->>'recipientOrg' AS "toOrg", entry->>'purpose' AS purpose,
              entry->'categories' AS categories, entry->'legalBasis' AS "legalBasis",
              count(*)::int AS count
         FROM audit.entries
        WHERE action = 'record.disclosed'
          AND ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
        GROUP BY 1, 2, 3, 4`,
      [period.from?.toISOString() ?? null, period.to?.toISOString() ?? null],
    );
    const flows = informationFlows(groups, this.settings.recordHolder);
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(
        flows.map((f) => ({
          ...f,
          article6: f.legalBasis.article6,
          article9: f.legalBasis.article9,
          statutes: f.legalBasis.statutes,
          agreementIds: f.legalBasis.agreementIds,
          basisSource: f.legalBasis.source,
        })),
        FLOWS_CSV_COLUMNS,
      );
    }
    return flows;
  }
}
