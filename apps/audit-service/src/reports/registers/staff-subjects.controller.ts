import { Body, Controller, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  isValidNhsNumber,
  OutboxWriter,
  Roles,
  type AuthenticatedUser,
} from '#common';
import { DataSource } from 'typeorm';
import { invalidInput } from '../../http/query-params';
import { ODS_CODE, PRINCIPAL_ID, REGISTER_EDITORS, registerActor } from './register-editors';

/** Stored, so never renamed: the log entry of a change to the staff register. */
export const STAFF_SUBJECT_SET = 'audit.staff-subject.set.v1';

export class StaffSubjectDto {
  @ApiProperty({ example: 'X26', description: 'ODS code of the organisation they work for' })
  @IsString()
  @Matches(ODS_CODE, { message: 'org must be an ODS code (3-10 capital letters or digits)' })
  org!: string;

  @ApiPropertyOptional({ description: 'Their user id, when they have an account' })
  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'userId must be 1-128 letters, digits or ._:@-' })
  userId?: string;
}

export interface StaffSubjectView {
  subjectId: string;
  org: string;
  userId: string | null;
  version: number;
  markedBy: string;
  markedAt: string;
}

/**
 * The register of people who are also staff, kept by IG: an access by a colleague of the same
 * organisation is flagged `colleague-record` in the confidentiality report.
 */
@ApiTags('reports')
@Controller('v1/reports/staff-subjects')
export class StaffSubjectsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  @Put(':nhsNumber')
  @HttpCode(200)
  @Roles(...REGISTER_EDITORS)
  @ApiOkResponse({ description: 'The marking as stored; the change is logged.' })
  async mark(
    @Param('nhsNumber') nhsNumber: string,
    @Body() body: StaffSubjectDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<StaffSubjectView> {
    if (!isValidNhsNumber(nhsNumber)) {
      throw invalidInput([
        {
          field: 'nhsNumber',
          problem: 'nhsNumber must be a valid NHS number (10 digits, modulus 11 check digit)',
        },
      ]);
    }
    return this.dataSource.transaction(async (tx) => {
      const [row]: { version: number; marked_at: Date }[] = await tx.query(
        `INSERT INTO audit.report_staff_subjects (subject_id, org, user_id, version, marked_by)
         VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (subject_id, org) DO UPDATE
           SET user_id = EXCLUDED.user_id, marked_by = EXCLUDED.marked_by, marked_at = now(),
               version = audit.report_staff_subjects.version + 1
         RETURNING version, marked_at`,
        [nhsNumber, body.org, body.userId ?? null, editor.userId],
      );
      await this.outbox.append(tx, [
        {
          type: STAFF_SUBJECT_SET,
          streamId: `staff-subject-${nhsNumber}-${body.org}`,
          streamVersion: row.version,
          subjectId: nhsNumber,
          actor: registerActor(editor),
          correlationId,
          causationId: null,
          data: {
            org: body.org,
            ...(body.userId ? { userId: body.userId } : {}),
            version: row.version,
          },
        },
      ]);
      return {
        subjectId: nhsNumber,
        org: body.org,
        userId: body.userId ?? null,
        version: row.version,
        markedBy: editor.userId,
        markedAt: row.marked_at.toISOString(),
      };
    });
  }
}
