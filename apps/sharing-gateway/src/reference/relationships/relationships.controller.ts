import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  GATEWAY_EVENT_TYPES,
  isValidNhsNumber,
  Roles,
  STAFF_ROLES,
  type AuthenticatedUser,
} from '#common';
import { PRINCIPAL_ID, subjectIdPipe, uuidPipe } from '../../http/path-params.pipe';
import { REFERENCE_EDITORS, ReferenceStore } from '../reference-store';
import { IsAfter, IsInstant } from '../validity.validators';
import { IsNhsNumber } from './nhs-number.validator';

export class RelationshipDto {
  @ApiPropertyOptional({ description: 'The user with the relationship (or teamId)' })
  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'userId must be 1-128 letters, digits or ._:@-' })
  userId?: string;

  @ApiPropertyOptional({ description: 'The team with the relationship (or userId)' })
  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'teamId must be 1-128 letters, digits or ._:@-' })
  teamId?: string;

  @ApiProperty({ example: '9434765919' })
  @IsNhsNumber()
  subjectId!: string;

  @ApiProperty({ example: 'allocated-worker' })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{1,49}$/, {
    message: 'type must be a lower-case code such as allocated-worker or care-team',
  })
  type!: string;

  @ApiProperty({ example: '2026-01-01T00:00:00Z' })
  @IsInstant()
  validFrom!: string;

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsInstant()
  @IsAfter('validFrom')
  validUntil?: string;
}

export interface RelationshipView {
  relationshipId: string;
  userId: string | null;
  teamId: string | null;
  subjectId: string;
  type: string;
  validFrom: string;
  validUntil: string | null;
  endedAt: string | null;
}

interface RelationshipRow {
  relationship_id: string;
  user_id: string | null;
  team_id: string | null;
  subject_id: string;
  type: string;
  valid_from: Date;
  valid_until: Date | null;
  ended_at: Date | null;
  version: number;
}

const COLUMNS = `relationship_id, user_id, team_id, subject_id, type, valid_from, valid_until,
                 ended_at, version`;

function toView(r: RelationshipRow): RelationshipView {
  return {
    relationshipId: r.relationship_id,
    userId: r.user_id,
    teamId: r.team_id,
    subjectId: r.subject_id,
    type: r.type,
    validFrom: r.valid_from.toISOString(),
    validUntil: r.valid_until?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
  };
}

@ApiTags('reference data')
@Controller('v1/relationships')
export class RelationshipsController {
  constructor(private readonly store: ReferenceStore) {}

  @Post()
  @Roles(...REFERENCE_EDITORS)
  @ApiCreatedResponse({ description: '`{relationshipId}`' })
  async create(
    @Body() body: RelationshipDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<RelationshipView> {
    if ((body.userId === undefined) === (body.teamId === undefined)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'The request is invalid: userId, teamId.',
        'invalid',
        [{ field: 'userId', problem: 'give exactly one of userId and teamId' }],
      );
    }
    const relationshipId = randomUUID();
    return this.store.change(editor, correlationId, async (tx) => {
      const rows: RelationshipRow[] = await tx.query(
        `INSERT INTO gateway.relationships
           (relationship_id, user_id, team_id, subject_id, type, valid_from, valid_until, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, now())
         RETURNING ${COLUMNS}`,
        [
          relationshipId,
          body.userId ?? null,
          body.teamId ?? null,
          body.subjectId,
          body.type,
          body.validFrom,
          body.validUntil ?? null,
        ],
      );
      const view = toView(rows[0]);
      return {
        change: {
          kind: 'relationship',
          key: relationshipId,
          subjectId: body.subjectId,
          body: view,
          eventType: GATEWAY_EVENT_TYPES.relationshipCreated,
        },
        result: view,
      };
    });
  }

  /** Ends a relationship now; it stays in the history that past decisions replay against. */
  @Delete(':relationshipId')
  @HttpCode(200)
  @Roles(...REFERENCE_EDITORS)
  @ApiOkResponse({ description: 'The relationship, ended.' })
  async end(
    @Param('relationshipId', uuidPipe('relationshipId')) relationshipId: string,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<RelationshipView> {
    return this.store.change(editor, correlationId, async (tx) => {
      // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, count], not rows.
      const rows: RelationshipRow[] = await tx.query(
        `WITH ended AS (
          UPDATE gateway.relationships
              SET ended_at = now(),
                  valid_until = CASE WHEN valid_until IS NULL OR valid_until > now() THEN now()
                                     ELSE valid_until END,
                  version = version + 1, updated_at = now()
            WHERE relationship_id = $1 AND ended_at IS NULL
          RETURNING ${COLUMNS})
         SELECT * FROM ended`,
        [relationshipId],
      );
      if (rows.length === 0) {
        const exists: unknown[] = await tx.query(
          `SELECT 1 FROM gateway.relationships WHERE relationship_id = $1`,
          [relationshipId],
        );
        throw exists.length === 0
          ? new DomainError(
              'RELATIONSHIP_NOT_FOUND',
              `No relationship ${relationshipId} exists.`,
              'not-found',
            )
          : new DomainError(
              'RELATIONSHIP_ALREADY_ENDED',
              `Relationship ${relationshipId} has already ended.`,
              'rule-violation',
            );
      }
      const view = toView(rows[0]);
      return {
        change: {
          kind: 'relationship',
          key: relationshipId,
          subjectId: view.subjectId,
          body: view,
          eventType: GATEWAY_EVENT_TYPES.relationshipEnded,
        },
        result: view,
      };
    });
  }

  @Get()
  @Roles(...STAFF_ROLES)
  @ApiQuery({ name: 'subjectId', required: true })
  async list(@Query('subjectId') subjectId?: string): Promise<RelationshipView[]> {
    if (!subjectId || !isValidNhsNumber(subjectId)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: subjectId.', 'invalid', [
        { field: 'subjectId', problem: 'subjectId must be a valid NHS number' },
      ]);
    }
    const rows: RelationshipRow[] = await this.store.query(
      `SELECT ${COLUMNS} FROM gateway.relationships WHERE subject_id = $1 ORDER BY valid_from`,
      [subjectIdPipe.transform(subjectId)],
    );
    return rows.map(toView);
  }
}
