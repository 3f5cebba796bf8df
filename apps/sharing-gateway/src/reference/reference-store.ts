import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  OutboxWriter,
  type AuthenticatedUser,
  type EventActor,
  type GatewayEventType,
  type Role,
} from '#common';

/** The roles that maintain reference data; every change they make is published and audited. */
export const REFERENCE_EDITORS: Role[] = ['admin', 'ig_officer'];

export type ReferenceKind = 'organisation' | 'user' | 'agreement' | 'relationship' | 'access-grant';

/** One change to a reference record: its new body, and the event that announces it. */
export interface ReferenceChange<T> {
  kind: ReferenceKind;
  key: string;
  body: T;
  eventType: GatewayEventType;
  /** For replay: the person a relationship is about, the user a record belongs to. */
  subjectId?: string;
  userId?: string;
}

/** The editor as an event actor: identifiers and the role they acted in. */
export function actorOf(user: AuthenticatedUser): EventActor {
  return {
    userId: user.userId,
    org: user.org,
    role: user.roles.find((r) => REFERENCE_EDITORS.includes(r)) ?? user.roles[0],
  };
}

/**
 * Writes reference data: the current row (by the caller), a history row and the outbox event,
 * all in one transaction, so a decision's replay can read what was true at its time and the
 * audit log hears of every change.
 */
@Injectable()
export class ReferenceStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  /** A read of the gateway's own tables. */
  query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.dataSource.query(sql, params);
  }

  /** Runs `work` in a transaction; it returns the change to record, or throws. */
  async change<T, R>(
    editor: AuthenticatedUser,
    correlationId: string,
    work: (tx: EntityManager) => Promise<{ change: ReferenceChange<T>; result: R }>,
  ): Promise<R> {
    return this.dataSource.transaction(async (tx) => {
      const { change, result } = await work(tx);
      const [{ version }]: { version: number }[] = await tx.query(
        `INSERT INTO gateway.reference_history (kind, key, version, subject_id, user_id, body)
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5::jsonb
           FROM gateway.reference_history WHERE kind = $1 AND key = $2
         RETURNING version`,
        [
          change.kind,
          change.key,
          change.subjectId ?? null,
          change.userId ?? null,
          JSON.stringify(change.body),
        ],
      );
      await this.outbox.append(tx, [
        {
          type: change.eventType,
          streamId: `${change.kind}-${change.key}`,
          streamVersion: version,
          ...(change.subjectId ? { subjectId: change.subjectId } : {}),
          actor: actorOf(editor),
          correlationId,
          causationId: null,
          data: { ...(change.body as object), version },
        },
      ]);
      return result;
    });
  }
}
