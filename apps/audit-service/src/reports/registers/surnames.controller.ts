import { Body, Controller, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import {
  CorrelationId,
  CurrentUser,
  DomainError,
  isValidNhsNumber,
  OutboxWriter,
  Roles,
  type AuthenticatedUser,
  type FieldProblem,
} from '#common';
import { DataSource } from 'typeorm';
import { invalidInput } from '../../http/query-params';
import { PRINCIPAL_ID, REGISTER_EDITORS, registerActor } from './register-editors';
import { normaliseSurname, surnameHash, surnameKeyId } from './surname-hash';
import { SurnameKey } from './surname-key';

/** Stored, so never renamed: the log entry of a change to the surname register. */
export const SURNAME_SET = 'audit.surname.set.v1';

export class SurnameDto {
  @ApiProperty({ description: 'Kept only as a keyed hash; never stored, logged or returned' })
  @IsString()
  @Length(1, 100)
  surname!: string;
}

export interface SurnameView {
  kind: 'user' | 'subject';
  id: string;
  /** Always true: what was recorded is a keyed hash, which is not shown. */
  recorded: true;
  version: number;
  setBy: string;
  setAt: string;
}

/**
 * The surname register for the `same-surname` flag: the surname of a user (kind `user`, by
 * user id) or of a person (kind `subject`, by NHS number), held only as an HMAC so that neither
 * the register nor the log it feeds holds a name.
 */
@ApiTags('reports')
@Controller('v1/reports/surnames')
export class SurnamesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly key: SurnameKey,
  ) {}

  @Put(':kind/:id')
  @HttpCode(200)
  @Roles(...REGISTER_EDITORS)
  @ApiOkResponse({ description: 'That a surname is recorded (never the surname); logged.' })
  async set(
    @Param('kind') kind: string,
    @Param('id') id: string,
    @Body() body: SurnameDto,
    @CurrentUser() editor: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<SurnameView> {
    const problems: FieldProblem[] = [];
    const of: SurnameView['kind'] | null = kind === 'user' || kind === 'subject' ? kind : null;
    if (of === null) {
      problems.push({ field: 'kind', problem: 'kind must be one of: user, subject' });
    } else if (of === 'subject' && !isValidNhsNumber(id)) {
      problems.push({ field: 'id', problem: 'id of a subject must be a valid NHS number' });
    } else if (of === 'user' && !PRINCIPAL_ID.test(id)) {
      problems.push({
        field: 'id',
        problem: 'id of a user must be 1-128 letters, digits or ._:@-',
      });
    }
    if (normaliseSurname(body.surname) === '') {
      problems.push({ field: 'surname', problem: 'surname must contain letters' });
    }
    if (of === null || problems.length > 0) throw invalidInput(problems);
    const key = this.key.get();
    const hash = surnameHash(key, body.surname);
    const keyId = surnameKeyId(key);
    return this.dataSource.transaction(async (tx) => {
      // One writer at a time, so two replicas holding different keys cannot both start the
      // register; a hash under another key would never match and the flag would go quiet.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('audit.report_surnames'))`);
      const other: unknown[] = await tx.query(
        `SELECT 1 FROM audit.report_surnames WHERE key_id <> $1 LIMIT 1`,
        [keyId],
      );
      if (other.length > 0) {
        throw new DomainError(
          'SURNAME_KEY_MISMATCH',
          'The surname register was built with a different key than this service holds; configure the same REPORT_SURNAME_KEY_FILE on every replica.',
          'unavailable',
        );
      }
      const [row]: { version: number; set_at: Date }[] = await tx.query(
        `INSERT INTO audit.report_surnames (kind, id, surname_hmac, key_id, version, set_by)
         VALUES ($1, $2, $3, $4, 1, $5)
         ON CONFLICT (kind, id) DO UPDATE
           SET surname_hmac = EXCLUDED.surname_hmac, key_id = EXCLUDED.key_id,
               set_by = EXCLUDED.set_by, set_at = now(),
               version = audit.report_surnames.version + 1
         RETURNING version, set_at`,
        [kind, id, hash, keyId, editor.userId],
      );
      // Neither the surname nor its hash is published: with the key, a hash of a surname is
      // found again by trying a list of surnames, and the log can never be cleaned of it.
      await this.outbox.append(tx, [
        {
          type: SURNAME_SET,
          streamId: `surname-${kind}-${id}`,
          streamVersion: row.version,
          ...(kind === 'subject' ? { subjectId: id } : {}),
          actor: registerActor(editor),
          correlationId,
          causationId: null,
          data: { kind, ...(kind === 'user' ? { userId: id } : {}), version: row.version },
        },
      ]);
      return {
        kind: of,
        id,
        recorded: true,
        version: row.version,
        setBy: editor.userId,
        setAt: row.set_at.toISOString(),
      };
    });
  }
}
