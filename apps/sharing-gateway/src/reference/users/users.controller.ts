import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  GATEWAY_EVENT_TYPES,
  ROLES,
  Roles,
  STAFF_ROLES,
  type AuthenticatedUser,
  type Role,
} from '#common';
import { ODS_CODE, PRINCIPAL_ID, patternPipe } from '../../http/path-params.pipe';
import { REFERENCE_EDITORS, ReferenceStore } from '../reference-store';
import { ISO_DATE, IsCalendarDate } from '../validity.validators';

export class UserDto {
  @ApiProperty({ example: 'X26' })
  @IsString()
  @Matches(ODS_CODE, { message: 'org must be an ODS code (3-10 capital letters or digits)' })
  org!: string;

  @ApiProperty({ enum: ROLES, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true, message: `each value in roles must be one of: ${ROLES.join(', ')}` })
  roles!: Role[];

  @ApiProperty({ example: ['adult-team-north'] })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(PRINCIPAL_ID, { each: true, message: 'each value in teams must be a team id' })
  teams!: string[];

  @ApiProperty({ example: '2026-04-01', description: 'Date of the last IG training' })
  @IsString()
  @Matches(ISO_DATE, { message: 'igTrainingCompletedOn must be a date YYYY-MM-DD' })
  @IsCalendarDate({ notInFuture: true })
  igTrainingCompletedOn!: string;

  @ApiPropertyOptional({ example: '2027-03-31', description: 'Last day the account is active' })
  @IsOptional()
  @IsString()
  @Matches(ISO_DATE, { message: 'accountEndsOn must be a date YYYY-MM-DD' })
  @IsCalendarDate()
  accountEndsOn?: string;
}

interface UserView extends UserDto {
  userId: string;
  accountEndsOn?: string;
  version: number;
}

const userIdPipe = patternPipe(
  'userId',
  PRINCIPAL_ID,
  'userId must be 1-128 letters, digits or ._:@-',
);

@ApiTags('reference data')
@Controller('v1/users')
export class UsersController {
  constructor(private readonly store: ReferenceStore) {}

  @Put(':userId')
  @Roles(...REFERENCE_EDITORS)
  @ApiOkResponse({ description: 'The user as stored, with its version.' })
  async set(
    @Param('userId', userIdPipe) userId: string,
    @Body() body: UserDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<UserView> {
    return this.store.change(editor, correlationId, async (tx) => {
      const known: unknown[] = await tx.query(
        `SELECT 1 FROM gateway.organisations WHERE ods_code = $1`,
        [body.org],
      );
      if (known.length === 0) {
        throw new DomainError(
          'ORGANISATION_UNKNOWN',
          `Organisation ${body.org} is not registered; register it first (PUT /v1/organisations/${body.org}).`,
          'rule-violation',
          [{ field: 'org', problem: 'org must be a registered organisation' }],
        );
      }
      const [row]: { version: number }[] = await tx.query(
        `INSERT INTO gateway.users
           (user_id, org, roles, teams, ig_training_completed_on, account_ends_on, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, now())
         ON CONFLICT (user_id) DO UPDATE
           SET org = EXCLUDED.org, roles = EXCLUDED.roles, teams = EXCLUDED.teams,
               ig_training_completed_on = EXCLUDED.ig_training_completed_on,
               account_ends_on = EXCLUDED.account_ends_on,
               version = gateway.users.version + 1, updated_at = now()
         RETURNING version`,
        [
          userId,
          body.org,
          body.roles,
          body.teams,
          body.igTrainingCompletedOn,
          body.accountEndsOn ?? null,
        ],
      );
      const view = {
        userId,
        org: body.org,
        roles: body.roles,
        teams: body.teams,
        igTrainingCompletedOn: body.igTrainingCompletedOn,
        accountEndsOn: body.accountEndsOn ?? null,
      };
      return {
        change: {
          kind: 'user',
          key: userId,
          userId,
          body: view,
          eventType: GATEWAY_EVENT_TYPES.userSet,
        },
        result: { ...view, accountEndsOn: view.accountEndsOn ?? undefined, version: row.version },
      };
    });
  }

  @Get(':userId')
  @Roles(...STAFF_ROLES)
  async get(@Param('userId', userIdPipe) userId: string): Promise<UserView> {
    const rows: {
      org: string;
      roles: Role[];
      teams: string[];
      training: string;
      ends: string | null;
      version: number;
    }[] = await this.store.query(
      `SELECT org, roles, teams, ig_training_completed_on::text AS training,
              account_ends_on::text AS ends, version
         FROM gateway.users WHERE user_id = $1`,
      [userId],
    );
    if (rows.length === 0) {
      throw new DomainError('USER_NOT_FOUND', `No user ${userId} is registered.`, 'not-found');
    }
    const [r] = rows;
    return {
      userId,
      org: r.org,
      roles: r.roles,
      teams: r.teams,
      igTrainingCompletedOn: r.training,
      ...(r.ends ? { accountEndsOn: r.ends } : {}),
      version: r.version,
    };
  }
}
