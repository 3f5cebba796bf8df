import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource, type EntityManager } from 'typeorm';
import { Roles } from '#common';
import type { LogEntry } from '../../log/ingest/entry-from-event';
import { toCsv } from '../../log/query/entry-view';
import { readPeriod } from '../../http/query-params';
import { ReportSettings } from '../report-settings';
import {
  ACCESS_ACTIONS,
  confidentialityFlags,
  unusualVolumeDays,
  type ConfidentialityFlag,
  type DailyCount,
} from './flags';

/** One flagged access (API.md `GET /v1/reports/confidentiality`). */
export interface FlaggedAccess {
  seq: number;
  at: string;
  actor: LogEntry['actor'];
  subjectId: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  categories: string[];
  flags: ConfidentialityFlag[];
  needToKnow: string | null;
  recipientOrg: string | null;
  decisionId: string | null;
  /** Reason codes of the categories refused, once each. */
  deniedReasons: string[];
}

interface AccessRow {
  seq: string;
  at: string;
  actor: LogEntry['actor'];
  subject_id: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  categories: string[] | null;
  need_to_know: string | null;
  recipient_org: string | null;
  decision_id: string | null;
  denied: { category: string; reasons: string[] }[] | null;
  colleague: boolean;
  same_surname: boolean;
}

const BATCH = 5000;
// Written out rather than bound, so the planner can use the partial index on accesses.
const ACCESS_IN = ACCESS_ACTIONS.map((a) => `'${a}'`).join(', ');
// Enough history before the period for every day in it to have its user's full 30-day norm,
// with room for a clock change at either end.
const HISTORY_MARGIN_DAYS = 32;

export const CONFIDENTIALITY_CSV_COLUMNS = [
  'seq',
  'at',
  'actorId',
  'actorOrg',
  'actorRole',
  'subjectId',
  'action',
  'outcome',
  'purpose',
  'categories',
  'flags',
  'needToKnow',
  'recipientOrg',
  'decisionId',
  'deniedReasons',
];

/** The confidentiality audit (IG Toolkit requirement 216): accesses that need a second look. */
@ApiTags('reports')
@Controller('v1/reports/confidentiality')
export class ConfidentialityController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: ReportSettings,
  ) {}

  @Get()
  @Roles('ig_officer', 'caldicott_guardian')
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive; default now' })
  @ApiOkResponse({
    description:
      'Flagged accesses in log order: `[{seq, at, actor, subjectId, action, outcome, purpose, categories, flags, ...}]`; CSV with Accept: text/csv',
  })
  async report(
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FlaggedAccess[] | string> {
    const period = readPeriod(query);
    const to = period.to ?? new Date();
    // One snapshot for the volumes and the accesses, so entries arriving meanwhile cannot
    // make the two disagree.
    const flagged = await this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const unusualVolume = unusualVolumeDays(
        await this.dailyCounts(tx, period.from, to),
        this.settings.volume,
      );
      const context = { workingTime: this.settings.workingTime, unusualVolume };
      const result: FlaggedAccess[] = [];
      let after = 0;
      for (;;) {
        const rows = await this.accesses(tx, period.from, to, after);
        for (const r of rows) {
          const flags = confidentialityFlags(
            {
              at: r.at,
              actorId: r.actor?.userId ?? null,
              outcome: r.outcome,
              needToKnow: r.need_to_know,
              subjectIsColleague: r.colleague,
              sharesSurname: r.same_surname,
            },
            context,
          );
          if (flags.length > 0) result.push(view(r, flags));
        }
        if (rows.length < BATCH) break;
        after = Number(rows[rows.length - 1].seq);
      }
      return result;
    });
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return toCsv(
        flagged.map((f) => ({
          ...f,
          actorId: f.actor?.userId,
          actorOrg: f.actor?.org,
          actorRole: f.actor?.role,
        })),
        CONFIDENTIALITY_CSV_COLUMNS,
      );
    }
    return flagged;
  }

  /** Accesses per user per local day, from the history margin before the period to its end. */
  private dailyCounts(tx: EntityManager, from: Date | null, to: Date): Promise<DailyCount[]> {
    return tx.query(
      `SELECT actor_id AS "userId", to_char(at AT TIME ZONE $1, 'YYYY-MM-DD') AS day,
              count(*)::int AS count
         FROM audit.entries
        WHERE action IN (${ACCESS_IN}) AND actor_id IS NOT NULL
          AND ($2::timestamptz IS NULL OR at >= $2::timestamptz - make_interval(days => $4))
          AND at < $3::timestamptz + interval '2 days'
        GROUP BY 1, 2`,
      [
        this.settings.workingTime.timeZone,
        from?.toISOString() ?? null,
        to.toISOString(),
        HISTORY_MARGIN_DAYS,
      ],
    );
  }

  /**
   * The next batch of accesses in the period, with what the IG registers say of them. The
   * registers are read as they are now: marking someone as staff today flags past accesses too.
   */
  private accesses(
    tx: EntityManager,
    from: Date | null,
    to: Date,
    afterSeq: number,
  ): Promise<AccessRow[]> {
    return tx.query(
      `SELECT e.seq::text AS seq, e.entry->>'at' AS at, e.entry->'actor' AS actor, e.subject_id,
              e.action, e.outcome, e.entry->>'purpose' AS purpose,
              e.entry->'categories' AS categories,
              e.entry->'details'->>'needToKnow' AS need_to_know,
              e.entry->'details'->>'recipientOrg' AS recipient_org,
              e.entry->'details'->>'decisionId' AS decision_id,
              e.entry->'details'->'denied' AS denied,
              EXISTS (SELECT 1 FROM audit.report_staff_subjects s
                       WHERE s.subject_id = e.subject_id AND s.org = e.actor_org) AS colleague,
              coalesce(us.surname_hmac = ss.surname_hmac AND us.key_id = ss.key_id, false)
                AS same_surname
         FROM audit.entries e
         LEFT JOIN audit.report_surnames us ON us.kind = 'user' AND us.id = e.actor_id
         LEFT JOIN audit.report_surnames ss ON ss.kind = 'subject' AND ss.id = e.subject_id
        WHERE e.action IN (${ACCESS_IN})
          AND ($1::timestamptz IS NULL OR e.at >= $1) AND e.at < $2 AND e.seq > $3
        ORDER BY e.seq
        LIMIT $4`,
      [from?.toISOString() ?? null, to.toISOString(), afterSeq, BATCH],
    );
  }
}

function view(r: AccessRow, flags: ConfidentialityFlag[]): FlaggedAccess {
  const denied = Array.isArray(r.denied) ? r.denied : [];
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    subjectId: r.subject_id,
    action: r.action,
    outcome: r.outcome,
    purpose: r.purpose,
    categories: r.categories ?? [],
    flags,
    needToKnow: r.need_to_know,
    recipientOrg: r.recipient_org,
    decisionId: r.decision_id,
    deniedReasons: [...new Set(denied.flatMap((d) => (Array.isArray(d.reasons) ? d.reasons : [])))],
  };
}
