import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  canActOnSubject,
  CurrentUser,
  DomainError,
  isValidNhsNumber,
  Roles,
  type AuthenticatedUser,
  type FieldProblem,
} from '#common';
import type { LogEntry } from '../log/ingest/entry-from-event';
import { invalidInput, unknownParameters } from '../http/query-params';
import {
  ACCESS_ACTIONS,
  auditEventOf,
  NHS_NUMBER_SYSTEM,
  searchsetOf,
} from './audit-event.mapping';

/** `patient=<nhs number>`, or the token form `https://fhir.nhs.uk/Id/nhs-number|<nhs number>`. */
function patientOf(value: unknown, problems: FieldProblem[]): string | undefined {
  const text = typeof value === 'string' ? value : '';
  const nhsNumber = text.startsWith(`${NHS_NUMBER_SYSTEM}|`)
    ? text.slice(NHS_NUMBER_SYSTEM.length + 1)
    : text;
  if (!isValidNhsNumber(nhsNumber)) {
    problems.push({ field: 'patient', problem: 'patient must be a valid NHS number' });
    return undefined;
  }
  return nhsNumber;
}

function wholeNumber(field: string, value: unknown, problems: FieldProblem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    problems.push({ field, problem: `${field} must be a whole number` });
    return undefined;
  }
  return Number(value);
}

/** A person's access audit trail as FHIR R4 AuditEvents (IHE BALP shape). */
@ApiTags('fhir')
@Controller('fhir/AuditEvent')
export class AuditEventController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Roles('ig_officer', 'service_user')
  @ApiProduces('application/fhir+json')
  @ApiQuery({ name: 'patient', description: 'NHS number (or nhs-number system|value)' })
  @ApiQuery({ name: '_count', required: false, description: '1-1000, default 100' })
  @ApiQuery({ name: '_cursor', required: false, description: 'from the Bundle’s next link' })
  @ApiOkResponse({
    description:
      'A FHIR R4 Bundle (searchset) of AuditEvent resources, newest first: one per access decision about the person ' +
      '(a release by the gateway is a `read`, a decision an integration asked for a `search-type`). ' +
      'A service user sees only their own, without staff user ids, and not accesses whose notice an IG officer has deferred.',
  })
  async search(
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const problems = unknownParameters(query, ['patient', '_count', '_cursor']);
    const patient = patientOf(query.patient, problems);
    const count = wholeNumber('_count', query._count, problems) ?? 100;
    if (count < 1 || count > 1000)
      problems.push({ field: '_count', problem: '_count must be 1-1000' });
    const cursor = wholeNumber('_cursor', query._cursor, problems);
    if (problems.length > 0 || !patient) throw invalidInput(problems);
    const ig = user.roles.includes('ig_officer');
    if (!ig && !canActOnSubject(user, patient)) {
      throw new DomainError(
        'NOT_YOUR_RECORD',
        'You may see only your own audit trail.',
        'forbidden',
      );
    }
    // An access whose notice is deferred (telling the person now would put someone at risk
    // or prejudice an investigation) is withheld from the person until the notice goes.
    const rows: { seq: string; entry: LogEntry }[] = await this.dataSource.query(
      `SELECT e.seq::text AS seq, e.entry FROM audit.entries e
        WHERE e.subject_id = $1 AND e.action = ANY($2::text[])
          AND ($3::bigint IS NULL OR e.seq < $3)
          AND ($4 OR NOT EXISTS (
                SELECT 1 FROM audit.notifications n
                 WHERE n.status = 'deferred'
                   AND n.decision_id::text IN (e.entry->'details'->>'decisionId',
                                               e.entry->'details'->>'breakGlassWindowId')))
        ORDER BY e.seq DESC LIMIT $5`,
      [patient, ACCESS_ACTIONS, cursor ?? null, ig, count + 1],
    );
    const page = rows.slice(0, count);
    const self = `/fhir/AuditEvent?patient=${patient}&_count=${count}${cursor ? `&_cursor=${cursor}` : ''}`;
    const next =
      rows.length > count
        ? `/fhir/AuditEvent?patient=${patient}&_count=${count}&_cursor=${page[page.length - 1].seq}`
        : undefined;
    void reply.header('content-type', 'application/fhir+json; charset=utf-8');
    return JSON.stringify(
      searchsetOf(
        page.map((r) => auditEventOf(r.entry, { identifyStaff: ig })),
        { self, next },
      ),
    );
  }
}
