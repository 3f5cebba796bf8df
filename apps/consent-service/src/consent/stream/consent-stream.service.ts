import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, OutboxWriter } from '#common';
import { decide, RuleViolation, type ConsentCommand } from '../domain/decide';
import type { EventMetadata, StoredEvent } from '../domain/events';
import { evolve, initialState, replay, type SubjectState } from '../domain/state';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row';
import { toIntegrationEvent } from './integration-events';

/** Who is writing, and the HTTP preconditions they gave. */
export interface WriteContext {
  actor: EventMetadata['actor'];
  correlationId: string;
  /** From `If-Match`: the stream version the writer last saw. */
  expectedVersion?: number;
  idempotencyKey?: string;
  /** Fingerprint of the request, so a reused idempotency key with another body is refused. */
  request: unknown;
}

export interface WriteResult<B> {
  streamVersion: number;
  body: B;
  /** True when an earlier request with the same idempotency key already did this. */
  replayed: boolean;
}

const CONFLICT_RETRIES = 3;

/**
 * Runs commands against one person's stream: reads their state, decides, and appends the
 * events, the projection, the outbox rows and the idempotency record in one transaction.
 */
@Injectable()
export class ConsentStreamService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  async execute<B>(
    subjectId: string,
    command: ConsentCommand,
    context: WriteContext,
    respond: (streamVersion: number) => B,
  ): Promise<WriteResult<B>> {
    // Without If-Match the writer accepts whatever the current state is, so a lost race is
    // simply decided again on the new state; with If-Match it is the writer's conflict (412).
    const attempts = context.expectedVersion === undefined ? CONFLICT_RETRIES : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        // An idempotency key is claimed and answered across statements, so it needs a
        // transaction; otherwise the whole write is one atomic statement (2 round trips).
        return context.idempotencyKey
          ? await this.dataSource.transaction((tx) =>
              this.executeOnce(tx, subjectId, command, context, respond),
            )
          : await this.executeOnce(this.dataSource.manager, subjectId, command, context, respond);
      } catch (error) {
        if (!isStreamConflict(error)) throw error;
        if (attempt >= attempts) {
          throw new DomainError(
            'VERSION_CONFLICT',
            'Someone else changed this person’s record at the same time; read it again and retry.',
            'version-conflict',
          );
        }
      }
    }
  }

  private async executeOnce<B>(
    tx: EntityManager,
    subjectId: string,
    command: ConsentCommand,
    context: WriteContext,
    respond: (streamVersion: number) => B,
  ): Promise<WriteResult<B>> {
    const requestHash = createHash('sha256').update(JSON.stringify(context.request)).digest('hex');
    if (context.idempotencyKey) {
      const earlier = await this.claimIdempotencyKey(
        tx,
        context.idempotencyKey,
        subjectId,
        requestHash,
      );
      if (earlier) return { ...(earlier as { streamVersion: number; body: B }), replayed: true };
    }
    const state = await this.currentIn(tx, subjectId);
    if (context.expectedVersion !== undefined && context.expectedVersion !== state.streamVersion) {
      throw new DomainError(
        'VERSION_CONFLICT',
        `The record is at version ${state.streamVersion}, not ${context.expectedVersion}; read it again.`,
        'version-conflict',
      );
    }
    await this.checkOwnership(tx, subjectId, command, state);
    // A stream's times never go backwards, even across replicas with skewed clocks, so a
    // replay "as of" an instant always takes a prefix of the stream.
    const now = new Date(Math.max(Date.now(), state.updatedAt ? Date.parse(state.updatedAt) : 0));
    let decided;
    try {
      decided = decide(command, state, now);
    } catch (error) {
      if (error instanceof RuleViolation)
        throw new DomainError(error.code, error.message, error.kind);
      throw error;
    }
    const metadata: EventMetadata = {
      actor: context.actor,
      correlationId: context.correlationId,
      causationId: null,
      ...(context.idempotencyKey ? { idempotencyKey: context.idempotencyKey } : {}),
    };
    const stored: StoredEvent[] = decided.map((event, i) => ({
      ...event,
      eventId: randomUUID(),
      streamVersion: state.streamVersion + i + 1,
      recordedAt: now.toISOString(),
      metadata,
    }));
    let next = state;
    if (stored.length > 0) {
      next = stored.reduce(evolve, state);
      await this.appendAndProject(tx, stored, next, state);
    }
    const body = respond(next.streamVersion);
    if (context.idempotencyKey) {
      await tx.query(
        `UPDATE consent.idempotency_keys SET status_code = 200, response = $2 WHERE idempotency_key = $1`,
        [context.idempotencyKey, JSON.stringify({ streamVersion: next.streamVersion, body })],
      );
    }
    return { streamVersion: next.streamVersion, body, replayed: false };
  }

  /** The person's current state (the projection, updated in the writer's transaction). */
  async current(subjectId: string): Promise<SubjectState> {
    return this.currentIn(this.dataSource.manager, subjectId);
  }

  /** The state at a past instant, by replaying the events recorded up to it. */
  async asOf(subjectId: string, at: Date): Promise<SubjectState> {
    return replay(subjectId, await this.events(subjectId, at));
  }

  /** The person's events in order, optionally only those recorded up to an instant. */
  async events(subjectId: string, upTo?: Date): Promise<StoredEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${EVENT_COLUMNS}
         FROM consent.events
        WHERE stream_id = $1 AND ($2::timestamptz IS NULL OR recorded_at <= $2)
        ORDER BY stream_position`,
      [subjectId, upTo?.toISOString() ?? null],
    );
    return rows.map(toStoredEvent);
  }

  private async currentIn(tx: EntityManager, subjectId: string): Promise<SubjectState> {
    const rows: { state: SubjectState }[] = await tx.query(
      `SELECT state FROM consent.subject_states WHERE subject_id = $1`,
      [subjectId],
    );
    return rows[0]?.state ?? initialState(subjectId);
  }

  /**
   * Appends the events, updates the projection, indexes new record ids and writes the outbox
   * in one statement: atomic without an explicit transaction, and one round trip instead of
   * five on the hot path of every command.
   */
  private async appendAndProject(
    tx: EntityManager,
    stored: StoredEvent[],
    next: SubjectState,
    before: SubjectState,
  ): Promise<void> {
    const added = [
      ...next.consents
        .filter((c) => !before.consents.some((b) => b.consentId === c.consentId))
        .map((c) => ['consent', c.consentId]),
      ...next.objections
        .filter((o) => !before.objections.some((b) => b.objectionId === o.objectionId))
        .map((o) => ['objection', o.objectionId]),
      ...next.proxies
        .filter((p) => !before.proxies.some((b) => b.proxyId === p.proxyId))
        .map((p) => ['proxy', p.proxyId]),
    ];
    const outbox = this.outbox.statement(
      stored.map((e) => toIntegrationEvent(next.subjectId, e)),
      13,
    );
    await tx.query(
      `WITH appended AS (
         INSERT INTO consent.events (event_id, stream_id, stream_position, type, data, metadata, recorded_at)
         SELECT e.id, $8, e.position, e.type, e.data, e.metadata, e.recorded_at
           FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[])
                AS e(id, position, type, data, metadata, recorded_at)
       ), projected AS (
         INSERT INTO consent.subject_states (subject_id, stream_version, state, updated_at)
         VALUES ($8, $9, $10, $11)
         ON CONFLICT (subject_id) DO UPDATE
           SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
       ), indexed AS (
         INSERT INTO consent.record_index (record_id, kind, subject_id)
         SELECT r.id, r.kind, $8 FROM unnest($12::uuid[], $7::text[]) AS r(id, kind)
       ), ${outbox.cte}
       SELECT 1`,
      [
        stored.map((e) => e.eventId),
        stored.map((e) => e.streamVersion),
        stored.map((e) => e.type),
        stored.map((e) => JSON.stringify(e.data)),
        stored.map((e) => JSON.stringify(e.metadata)),
        stored.map((e) => e.recordedAt),
        added.map((a) => a[0]),
        next.subjectId,
        next.streamVersion,
        JSON.stringify(next),
        next.updatedAt,
        added.map((a) => a[1]),
        ...outbox.params,
      ],
    );
  }

  /** A record id that belongs to another person is a rule broken, not a record missing. */
  private async checkOwnership(
    tx: EntityManager,
    subjectId: string,
    command: ConsentCommand,
    state: SubjectState,
  ): Promise<void> {
    const target =
      command.type === 'withdraw-consent'
        ? {
            id: command.consentId,
            known: state.consents.some((c) => c.consentId === command.consentId),
          }
        : command.type === 'decide-objection' || command.type === 'withdraw-objection'
          ? {
              id: command.objectionId,
              known: state.objections.some((o) => o.objectionId === command.objectionId),
            }
          : null;
    if (!target || target.known) return;
    const rows: { subject_id: string }[] = await tx.query(
      `SELECT subject_id FROM consent.record_index WHERE record_id = $1`,
      [target.id],
    );
    if (rows.length > 0 && rows[0].subject_id !== subjectId) {
      throw new DomainError(
        'RECORD_OF_ANOTHER_PERSON',
        'That record belongs to a different person.',
        'rule-violation',
      );
    }
  }

  private async claimIdempotencyKey(
    tx: EntityManager,
    key: string,
    subjectId: string,
    requestHash: string,
  ): Promise<unknown | null> {
    const inserted: unknown[] = await tx.query(
      `INSERT INTO consent.idempotency_keys (idempotency_key, subject_id, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING idempotency_key`,
      [key, subjectId, requestHash],
    );
    if (inserted.length > 0) return null;
    const [earlier]: { request_hash: string; response: unknown }[] = await tx.query(
      `SELECT request_hash, response FROM consent.idempotency_keys WHERE idempotency_key = $1`,
      [key],
    );
    if (earlier.request_hash !== requestHash) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used for a different request.',
        'rule-violation',
      );
    }
    return earlier.response;
  }
}

function isStreamConflict(error: unknown): boolean {
  const e = error as {
    code?: string;
    driverError?: { code?: string; constraint?: string };
    constraint?: string;
  };
  const code = e.driverError?.code ?? e.code;
  const constraint = e.driverError?.constraint ?? e.constraint;
  return (
    code === '23505' &&
    (constraint === 'events_stream_version' || constraint === 'subject_states_pkey')
  );
}
