import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches } from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  GATEWAY_EVENT_TYPES,
  ORGANISATION_KINDS,
  Roles,
  STAFF_ROLES,
  type AuthenticatedUser,
  type OrganisationKind,
} from '#common';
import { ODS_CODE, patternPipe } from '../../http/path-params.pipe';
import { REFERENCE_EDITORS, ReferenceStore } from '../reference-store';

export class OrganisationDto {
  @ApiProperty({ example: 'Northshire County Council' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: ORGANISATION_KINDS })
  @IsIn(ORGANISATION_KINDS, {
    message: `kind must be one of: ${ORGANISATION_KINDS.join(', ')}`,
  })
  kind!: OrganisationKind;

  @ApiProperty({ example: 'GB', description: 'ISO 3166-1 alpha-2 country of processing' })
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as GB' })
  country!: string;
}

interface OrganisationView extends OrganisationDto {
  odsCode: string;
  version: number;
  updatedAt: string;
}

const odsPipe = patternPipe('odsCode', ODS_CODE, 'odsCode must be 3-10 capital letters or digits');

@ApiTags('reference data')
@Controller('v1/organisations')
export class OrganisationsController {
  constructor(private readonly store: ReferenceStore) {}

  @Put(':odsCode')
  @Roles(...REFERENCE_EDITORS)
  @ApiOkResponse({ description: 'The organisation as stored, with its version.' })
  async set(
    @Param('odsCode', odsPipe) odsCode: string,
    @Body() body: OrganisationDto,
    @CurrentUser() user: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<OrganisationView> {
    return this.store.change(user, correlationId, async (tx) => {
      const [row]: { version: number; updated_at: Date }[] = await tx.query(
        `INSERT INTO gateway.organisations (ods_code, name, kind, country, version, updated_at)
         VALUES ($1, $2, $3, $4, 1, now())
         ON CONFLICT (ods_code) DO UPDATE
           SET name = EXCLUDED.name, kind = EXCLUDED.kind, country = EXCLUDED.country,
               version = gateway.organisations.version + 1, updated_at = now()
         RETURNING version, updated_at`,
        [odsCode, body.name, body.kind, body.country],
      );
      const view = { odsCode, name: body.name, kind: body.kind, country: body.country };
      return {
        change: {
          kind: 'organisation',
          key: odsCode,
          body: view,
          eventType: GATEWAY_EVENT_TYPES.organisationSet,
        },
        result: { ...view, version: row.version, updatedAt: row.updated_at.toISOString() },
      };
    });
  }

  @Get(':odsCode')
  @Roles(...STAFF_ROLES, 'system')
  async get(@Param('odsCode', odsPipe) odsCode: string): Promise<OrganisationView> {
    const rows: {
      name: string;
      kind: OrganisationKind;
      country: string;
      version: number;
      updated_at: Date;
    }[] = await this.store.query(
      `SELECT name, kind, country, version, updated_at FROM gateway.organisations WHERE ods_code = $1`,
      [odsCode],
    );
    if (rows.length === 0) {
      throw new DomainError(
        'ORGANISATION_NOT_FOUND',
        `No organisation ${odsCode} is registered.`,
        'not-found',
      );
    }
    const [r] = rows;
    return {
      odsCode,
      name: r.name,
      kind: r.kind,
      country: r.country,
      version: r.version,
      updatedAt: r.updated_at.toISOString(),
    };
  }
}
