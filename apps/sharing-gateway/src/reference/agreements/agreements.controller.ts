import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { EntityManager } from 'typeorm';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  fieldProblems,
  GATEWAY_EVENT_TYPES,
  Roles,
  STAFF_ROLES,
  type AuthenticatedUser,
} from '#common';
import { uuidPipe } from '../../http/path-params.pipe';
import { REFERENCE_EDITORS, ReferenceStore } from '../reference-store';
import { AgreementDto, AgreementPatchDto, AGREEMENT_STATUSES } from './agreement.dto';

export interface AgreementView {
  agreementId: string;
  title: string;
  parties: string[];
  roles: string[];
  purposes: string[];
  dataCategories: string[];
  legalBasis: { article6: string; article9?: string; statutes: string[] };
  validFrom: string;
  validUntil: string;
  status: string;
  internationalTransferSafeguards?: string;
  version: number;
}

interface AgreementRow {
  agreement_id: string;
  title: string;
  parties: string[];
  roles: string[];
  purposes: string[];
  data_categories: string[];
  legal_basis: AgreementView['legalBasis'];
  valid_from: Date;
  valid_until: Date | null;
  status: string;
  international_transfer_safeguards: string | null;
  version: number;
}

function toView(r: AgreementRow): AgreementView {
  return {
    agreementId: r.agreement_id,
    title: r.title,
    parties: r.parties,
    roles: r.roles,
    purposes: r.purposes,
    dataCategories: r.data_categories,
    legalBasis: r.legal_basis,
    validFrom: r.valid_from.toISOString(),
    validUntil: r.valid_until ? r.valid_until.toISOString() : '',
    status: r.status,
    ...(r.international_transfer_safeguards
      ? { internationalTransferSafeguards: r.international_transfer_safeguards }
      : {}),
    version: r.version,
  };
}

/** The body a history row and an event carry: the agreement without bookkeeping. */
function bodyOf(view: AgreementView): Omit<AgreementView, 'version'> {
  const { version: _version, ...body } = view;
  return body;
}

const SELECT = `SELECT agreement_id, title, parties, roles, purposes, data_categories, legal_basis,
                       valid_from, valid_until, status, international_transfer_safeguards, version
                  FROM gateway.agreements`;

@ApiTags('reference data')
@Controller('v1/agreements')
export class AgreementsController {
  constructor(private readonly store: ReferenceStore) {}

  @Post()
  @Roles(...REFERENCE_EDITORS)
  @ApiCreatedResponse({
    description: '`{agreementId}`; drafts and suspended agreements never count.',
  })
  async create(
    @Body() body: AgreementDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<{ agreementId: string; version: number }> {
    const agreementId = randomUUID();
    return this.store.change(editor, correlationId, async (tx) => {
      const view = await this.write(tx, agreementId, body, 1);
      return {
        change: {
          kind: 'agreement',
          key: agreementId,
          body: bodyOf(view),
          eventType: GATEWAY_EVENT_TYPES.agreementCreated,
        },
        result: { agreementId, version: 1 },
      };
    });
  }

  @Patch(':agreementId')
  @Roles(...REFERENCE_EDITORS)
  @ApiOkResponse({ description: 'The agreement after the change.' })
  async change(
    @Param('agreementId', uuidPipe('agreementId')) agreementId: string,
    @Body() patch: AgreementPatchDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<AgreementView> {
    return this.store.change(editor, correlationId, async (tx) => {
      const rows: AgreementRow[] = await tx.query(`${SELECT} WHERE agreement_id = $1 FOR UPDATE`, [
        agreementId,
      ]);
      if (rows.length === 0) throw notFound(agreementId);
      const current = toView(rows[0]);
      const merged = plainToInstance(AgreementDto, { ...bodyOf(current), ...patch });
      const problems = fieldProblems(validateSync(merged, { forbidUnknownValues: false }));
      if (problems.length > 0) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `The changed agreement would be invalid: ${[...new Set(problems.map((p) => p.field))].join(', ')}.`,
          'invalid',
          problems,
        );
      }
      const view = await this.write(tx, agreementId, merged, current.version + 1);
      return {
        change: {
          kind: 'agreement',
          key: agreementId,
          body: bodyOf(view),
          eventType: GATEWAY_EVENT_TYPES.agreementChanged,
        },
        result: view,
      };
    });
  }

  @Get(':agreementId')
  @Roles(...STAFF_ROLES, 'system')
  async get(
    @Param('agreementId', uuidPipe('agreementId')) agreementId: string,
  ): Promise<AgreementView> {
    const rows: AgreementRow[] = await this.store.query(`${SELECT} WHERE agreement_id = $1`, [
      agreementId,
    ]);
    if (rows.length === 0) throw notFound(agreementId);
    return toView(rows[0]);
  }

  @Get()
  @Roles(...STAFF_ROLES, 'system')
  @ApiQuery({ name: 'status', required: false, enum: AGREEMENT_STATUSES })
  @ApiQuery({ name: 'party', required: false, description: 'ODS code or kind:<kind>' })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async list(
    @Query('status') status?: string,
    @Query('party') party?: string,
    @Query('limit') limitText?: string,
    @Query('cursor') cursor?: string,
  ): Promise<{ agreements: AgreementView[]; nextCursor: string | null }> {
    const problems = [];
    if (status !== undefined && !(AGREEMENT_STATUSES as readonly string[]).includes(status))
      problems.push({
        field: 'status',
        problem: `status must be one of: ${AGREEMENT_STATUSES.join(', ')}`,
      });
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      problems.push({ field: 'limit', problem: 'limit must be an integer from 1 to 500' });
    if (cursor !== undefined && !/^[0-9a-f-]{36}$/.test(cursor))
      problems.push({
        field: 'cursor',
        problem: 'cursor must be the nextCursor of a previous page',
      });
    if (party !== undefined && party.length > 100)
      problems.push({ field: 'party', problem: 'party must be an ODS code or kind:<kind>' });
    if (problems.length > 0) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `The request is invalid: ${problems.map((p) => p.field).join(', ')}.`,
        'invalid',
        problems,
      );
    }
    const rows: AgreementRow[] = await this.store.query(
      `${SELECT}
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR $2 = ANY(parties))
          AND ($3::uuid IS NULL OR agreement_id > $3::uuid)
        ORDER BY agreement_id LIMIT $4`,
      [status ?? null, party ?? null, cursor ?? null, limit + 1],
    );
    const page = rows.slice(0, limit).map(toView);
    return {
      agreements: page,
      nextCursor: rows.length > limit ? page[page.length - 1].agreementId : null,
    };
  }

  private async write(
    tx: EntityManager,
    agreementId: string,
    body: AgreementDto,
    version: number,
  ): Promise<AgreementView> {
    const legalBasis = {
      article6: body.legalBasis.article6,
      ...(body.legalBasis.article9 ? { article9: body.legalBasis.article9 } : {}),
      statutes: body.legalBasis.statutes,
    };
    const rows: AgreementRow[] = await tx.query(
      `INSERT INTO gateway.agreements
         (agreement_id, title, parties, roles, purposes, data_categories, legal_basis, valid_from,
          valid_until, status, international_transfer_safeguards, version, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, now())
       ON CONFLICT (agreement_id) DO UPDATE
         SET title = EXCLUDED.title, parties = EXCLUDED.parties, roles = EXCLUDED.roles,
             purposes = EXCLUDED.purposes, data_categories = EXCLUDED.data_categories,
             legal_basis = EXCLUDED.legal_basis, valid_from = EXCLUDED.valid_from,
             valid_until = EXCLUDED.valid_until, status = EXCLUDED.status,
             international_transfer_safeguards = EXCLUDED.international_transfer_safeguards,
             version = EXCLUDED.version, updated_at = now()
       RETURNING agreement_id, title, parties, roles, purposes, data_categories, legal_basis,
                 valid_from, valid_until, status, international_transfer_safeguards, version`,
      [
        agreementId,
        body.title,
        body.parties,
        body.roles,
        body.purposes,
        body.dataCategories,
        JSON.stringify(legalBasis),
        body.validFrom,
        body.validUntil,
        body.status,
        body.internationalTransferSafeguards ?? null,
        version,
      ],
    );
    return toView(rows[0]);
  }
}

function notFound(agreementId: string): DomainError {
  return new DomainError(
    'AGREEMENT_NOT_FOUND',
    `No data sharing agreement ${agreementId} exists.`,
    'not-found',
  );
}
