import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  GATEWAY_EVENT_TYPES,
  PURPOSES,
  Roles,
  type AuthenticatedUser,
  type Purpose,
} from '#common';
import { PRINCIPAL_ID } from '../../http/path-params.pipe';
import { REFERENCE_EDITORS, ReferenceStore } from '../reference-store';
import { IsInstant } from '../validity.validators';

export class AccessGrantDto {
  @ApiProperty({ description: 'A registered user without a standard role-based relationship' })
  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'userId must be 1-128 letters, digits or ._:@-' })
  userId!: string;

  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, { message: `purpose must be one of: ${PURPOSES.join(', ')}` })
  purpose!: Purpose;

  @ApiProperty({ example: '2027-01-31T00:00:00Z' })
  @IsInstant()
  validUntil!: string;

  @ApiProperty({ description: 'The user id of the manager or Caldicott Guardian who approved it' })
  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'approvedBy must be 1-128 letters, digits or ._:@-' })
  approvedBy!: string;
}

export interface AccessGrantView {
  grantId: string;
  userId: string;
  purpose: Purpose;
  validUntil: string;
  approvedBy: string;
  viewOnly: true;
  recertifiedAt: string;
  /** Grants are recertified every 2 months (IG Toolkit); after that they show as due. */
  recertificationDueAt: string;
}

interface GrantRow {
  grant_id: string;
  user_id: string;
  purpose: Purpose;
  valid_until: Date;
  approved_by: string;
  recertified_at: Date;
}

function toView(r: GrantRow): AccessGrantView {
  const due = new Date(r.recertified_at);
  due.setUTCMonth(due.getUTCMonth() + 2);
  return {
    grantId: r.grant_id,
    userId: r.user_id,
    purpose: r.purpose,
    validUntil: r.valid_until.toISOString(),
    approvedBy: r.approved_by,
    viewOnly: true,
    recertifiedAt: r.recertified_at.toISOString(),
    recertificationDueAt: due.toISOString(),
  };
}

@ApiTags('reference data')
@Controller('v1/access-grants')
export class AccessGrantsController {
  constructor(private readonly store: ReferenceStore) {}

  @Post()
  @Roles(...REFERENCE_EDITORS)
  @ApiCreatedResponse({
    description: 'A view-only grant for a non-standard user, until its end date.',
  })
  async create(
    @Body() body: AccessGrantDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<AccessGrantView> {
    if (new Date(body.validUntil).getTime() <= Date.now()) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: validUntil.', 'invalid', [
        { field: 'validUntil', problem: 'validUntil must be in the future' },
      ]);
    }
    const grantId = randomUUID();
    return this.store.change(editor, correlationId, async (tx) => {
      const known: unknown[] = await tx.query(`SELECT 1 FROM gateway.users WHERE user_id = $1`, [
        body.userId,
      ]);
      if (known.length === 0) {
        throw new DomainError(
          'USER_UNKNOWN',
          `User ${body.userId} is not registered; register them first (PUT /v1/users/${body.userId}).`,
          'rule-violation',
          [{ field: 'userId', problem: 'userId must be a registered user' }],
        );
      }
      const rows: GrantRow[] = await tx.query(
        `INSERT INTO gateway.access_grants
           (grant_id, user_id, purpose, valid_until, approved_by, recertified_at, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, now(), 1, now())
         RETURNING grant_id, user_id, purpose, valid_until, approved_by, recertified_at`,
        [grantId, body.userId, body.purpose, body.validUntil, body.approvedBy],
      );
      const view = toView(rows[0]);
      return {
        change: {
          kind: 'access-grant',
          key: grantId,
          userId: body.userId,
          body: view,
          eventType: GATEWAY_EVENT_TYPES.accessGrantCreated,
        },
        result: view,
      };
    });
  }

  @Get()
  @Roles(...REFERENCE_EDITORS, 'caldicott_guardian')
  @ApiQuery({ name: 'userId', required: false })
  async list(@Query('userId') userId?: string): Promise<AccessGrantView[]> {
    if (userId !== undefined && !PRINCIPAL_ID.test(userId)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: userId.', 'invalid', [
        { field: 'userId', problem: 'userId must be 1-128 letters, digits or ._:@-' },
      ]);
    }
    const rows: GrantRow[] = await this.store.query(
      `SELECT grant_id, user_id, purpose, valid_until, approved_by, recertified_at
         FROM gateway.access_grants WHERE ($1::text IS NULL OR user_id = $1)
        ORDER BY valid_until LIMIT 1000`,
      [userId ?? null],
    );
    return rows.map(toView);
  }
}
