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
 * Group writes under way at once: one decides while the other waits for its commit. Few and
 * large rather than many and small, because each costs a round trip and a commit.
 */
const GROUPS_IN_FLIGHT = 2;
/** Commands in one group write, so one statement's parameters stay modest. */
const GROUP_SIZE = 200;

/** A command waiting for a group write, with the caller's promise to settle. */
interface Job {
  subjectId: string;
  command: ConsentCommand;
  context: WriteContext;
  respond: (streamVersion: number) => unknown;
  resolve: (result: WriteResult<unknown>) => void;
  reject: (error: unknown) => void;
}

/** What one command decided: its stored events and the person's state after them. */
interface Decided {
  before: SubjectState;
  stored: StoredEvent[];
  next: SubjectState;
}

/**
 * Runs commands against people's streams: reads their state, decides, and appends the
 * events, the projection, the outbox rows and (with an idempotency key) the idempotency
 * record atomically. Commands arriving together are written together (see writeGroup).
 */
@Injectable()
export class ConsentStreamService {
  private waiting: Job[] = [];
  /** People with a command in a group write under way. */
  private readonly busy = new Set<string>();
  private groupsInFlight = 0;

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
    // An idempotency key is claimed and answered across statements, so it needs its own
    // transaction; every other command joins a group write.
    if (context.idempotencyKey) return this.executeAlone(subjectId, command, context, respond);
    return new Promise<WriteResult<B>>((resolve, reject) => {
      this.waiting.push({
        subjectId,
        command,
        context,
        respond,
        resolve: resolve as (result: WriteResult<unknown>) => void,
        reject,
      });
      this.pump();
    });
  }

  /** One command with its own read and write, decided again on a lost race without If-Match. */
  private async executeAlone<B>(
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
        return context.idempotencyKey
          ? await this.dataSource.transaction((tx) =>
              this.executeOnce(tx, subjectId, command, context, respond),
            )
          : await this.executeOnce(this.dataSource.manager, subjectId, command, context, respond);
      } catch (error) {
        if (!isStreamConflict(error)) throw error;
        if (attempt >= attempts) throw versionConflict();
      }
    }
  }

  /**
   * Starts group writes while there is room. A group takes every waiting command whose
   * person has none under way, so one person's commands keep their order and never race
   * each other within this process (other replicas are caught by the stream's unique key).
   */
  private pump(): void {
    while (this.groupsInFlight < GROUPS_IN_FLIGHT && this.waiting.length > 0) {
      const group: Job[] = [];
      const later: Job[] = [];
      for (const job of this.waiting) {
        if (group.length < GROUP_SIZE && !this.busy.has(job.subjectId)) {
          this.busy.add(job.subjectId);
          group.push(job);
        } else later.push(job);
      }
      this.waiting = later;
      if (group.length === 0) return;
      this.groupsInFlight++;
      void this.writeGroup(group).finally(() => {
        this.groupsInFlight--;
        for (const job of group) this.busy.delete(job.subjectId);
        this.pump();
      });
    }
  }

  /**
   * Reads the group's states in one query, decides each command, and appends every event,
   * projection row, record index entry and outbox row in one statement: two round trips and
   * one commit for the whole group instead of two and one per command. If PostgreSQL refuses
   * the statement it wrote nothing, and each command runs again on its own, so a conflict or
   * a broken rule is answered to its own command only. Settles when every job is answered.
   */
  private async writeGroup(group: Job[]): Promise<void> {
    const answered = new Set<Job>();
    const answering: Promise<void>[] = [];
    // Handlers are attached at once, so no outcome is ever a rejection left unhandled.
    const settle = (job: Job, outcome: Promise<WriteResult<unknown>>): void => {
      answered.add(job);
      answering.push(outcome.then(job.resolve, job.reject));
    };
    const alone = (job: Job): Promise<WriteResult<unknown>> =>
      this.executeAlone(job.subjectId, job.command, job.context, job.respond);
    try {
      const states = await this.statesOf(group.map((job) => job.subjectId));
      const writes: (Decided & { job: Job })[] = [];
      for (const job of group) {
        const state = states.get(job.subjectId) ?? initialState(job.subjectId);
        try {
          if (ownershipTarget(job.command, state)) {
            // Rare (a record id not in this person's state): needs a lookup of its own.
            settle(job, alone(job));
            continue;
          }
          const decided = decideOn(state, job.command, job.context);
          if (decided.stored.length === 0) {
            settle(job, Promise.resolve(answer(decided.next, job.respond)));
          } else writes.push({ ...decided, job });
        } catch (error) {
          settle(job, Promise.reject(error));
        }
      }
      if (writes.length > 0) {
        let written = false;
        try {
          await this.appendAndProject(this.dataSource.manager, writes);
          written = true;
        } catch (error) {
          // Only an error PostgreSQL reported for the statement proves it wrote nothing.
          if (!hasSqlState(error)) throw error;
          for (const w of writes) settle(w.job, alone(w.job));
        }
        if (written) {
          for (const w of writes) settle(w.job, Promise.resolve(answer(w.next, w.job.respond)));
        }
      }
    } catch (error) {
      for (const job of group) if (!answered.has(job)) settle(job, Promise.reject(error));
    }
    // A person stays busy until their command is answered, including a run on its own.
    await Promise.all(answering);
  }

  private async executeOnce<B>(
    tx: EntityManager,
    subjectId: string,
    command: ConsentCommand,
    context: WriteContext,
    respond: (streamVersion: number) => B,
  ): Promise<WriteResult<B>> {
    if (context.idempotencyKey) {
      const requestHash = createHash('sha256')
        .update(JSON.stringify(context.request))
        .digest('hex');
      const earlier = await this.claimIdempotencyKey(
        tx,
        context.idempotencyKey,
        subjectId,
        requestHash,
      );
      if (earlier) return { ...(earlier as { streamVersion: number; body: B }), replayed: true };
    }
    const state = await this.currentIn(tx, subjectId);
    const target = ownershipTarget(command, state);
    if (target) await this.checkOwnership(tx, subjectId, target);
    const decided = decideOn(state, command, context);
    if (decided.stored.length > 0) await this.appendAndProject(tx, [decided]);
    const result = answer(decided.next, respond);
    if (context.idempotencyKey) {
      await tx.query(
        `UPDATE consent.idempotency_keys SET status_code = 200, response = $2 WHERE idempotency_key = $1`,
        [
          context.idempotencyKey,
          JSON.stringify({ streamVersion: result.streamVersion, body: result.body }),
        ],
      );
    }
    return result;
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

  /** Several people's current states in one query; people with no events are absent. */
  private async statesOf(subjectIds: string[]): Promise<Map<string, SubjectState>> {
    const rows: { subject_id: string; state: SubjectState }[] = await this.dataSource.query(
      `SELECT subject_id, state FROM consent.subject_states WHERE subject_id = ANY($1::text[])`,
      [subjectIds],
    );
    return new Map(rows.map((row) => [row.subject_id, row.state]));
  }

  /**
   * Appends the events, updates the projection, indexes new record ids and writes the outbox
   * for one or more commands (on different people) in one statement: atomic without an
   * explicit transaction, and one round trip instead of five.
   */
  private async appendAndProject(tx: EntityManager, writes: readonly Decided[]): Promise<void> {
    const events = writes.flatMap((w) => w.stored.map((e) => ({ subjectId: w.next.subjectId, e })));
    const added = writes.flatMap(({ before, next }) => [
      ...next.consents
        .filter((c) => !before.consents.some((b) => b.consentId === c.consentId))
        .map((c) => [c.consentId, 'consent', next.subjectId]),
      ...next.objections
        .filter((o) => !before.objections.some((b) => b.objectionId === o.objectionId))
        .map((o) => [o.objectionId, 'objection', next.subjectId]),
      ...next.proxies
        .filter((p) => !before.proxies.some((b) => b.proxyId === p.proxyId))
        .map((p) => [p.proxyId, 'proxy', next.subjectId]),
    ]);
    const outbox = this.outbox.statement(
      events.map(({ subjectId, e }) => toIntegrationEvent(subjectId, e)),
      15,
    );
    await tx.query(
      `WITH appended AS (
         INSERT INTO consent.events (event_id, stream_id, stream_position, type, data, metadata, recorded_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::jsonb[], $6::jsonb[], $7::timestamptz[])
       ), projected AS (
         INSERT INTO consent.subject_states (subject_id, stream_version, state, updated_at)
         SELECT * FROM unnest($8::text[], $9::int[], $10::jsonb[], $11::timestamptz[])
         ON CONFLICT (subject_id) DO UPDATE
           SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
       ), indexed AS (
         INSERT INTO consent.record_index (record_id, kind, subject_id)
         SELECT * FROM unnest($12::uuid[], $13::text[], $14::text[])
       ), ${outbox.cte}
       SELECT 1`,
      [
        events.map(({ e }) => e.eventId),
        events.map(({ subjectId }) => subjectId),
        events.map(({ e }) => e.streamVersion),
        events.map(({ e }) => e.type),
        events.map(({ e }) => JSON.stringify(e.data)),
        events.map(({ e }) => JSON.stringify(e.metadata)),
        events.map(({ e }) => e.recordedAt),
        writes.map((w) => w.next.subjectId),
        writes.map((w) => w.next.streamVersion),
        writes.map((w) => JSON.stringify(w.next)),
        writes.map((w) => w.next.updatedAt),
        added.map((a) => a[0]),
        added.map((a) => a[1]),
        added.map((a) => a[2]),
        ...outbox.params,
      ],
    );
  }

  /** A record id that belongs to another person is a rule broken, not a record missing. */
  private async checkOwnership(
    tx: EntityManager,
    subjectId: string,
    recordId: string,
  ): Promise<void> {
    const rows: { subject_id: string }[] = await tx.query(
      `SELECT subject_id FROM consent.record_index WHERE record_id = $1`,
      [recordId],
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

/** The record id a command names that is not in the person's state (to look up), if any. */
function ownershipTarget(command: ConsentCommand, state: SubjectState): string | null {
  if (command.type === 'withdraw-consent') {
    return state.consents.some((c) => c.consentId === command.consentId) ? null : command.consentId;
  }
  if (command.type === 'decide-objection' || command.type === 'withdraw-objection') {
    return state.objections.some((o) => o.objectionId === command.objectionId)
      ? null
      : command.objectionId;
  }
  return null;
}

/** Checks If-Match and decides the command on the state; the events to store and the state after. */
function decideOn(state: SubjectState, command: ConsentCommand, context: WriteContext): Decided {
  if (context.expectedVersion !== undefined && context.expectedVersion !== state.streamVersion) {
    throw new DomainError(
      'VERSION_CONFLICT',
      `The record is at version ${state.streamVersion}, not ${context.expectedVersion}; read it again.`,
      'version-conflict',
    );
  }
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
  const recordedAt = now.toISOString();
  const stored: StoredEvent[] = decided.map((event, i) => ({
    ...event,
    eventId: randomUUID(),
    streamVersion: state.streamVersion + i + 1,
    recordedAt,
    metadata,
  }));
  return { before: state, stored, next: stored.reduce(evolve, state) };
}

function answer<B>(next: SubjectState, respond: (streamVersion: number) => B): WriteResult<B> {
  return { streamVersion: next.streamVersion, body: respond(next.streamVersion), replayed: false };
}

function versionConflict(): DomainError {
  return new DomainError(
    'VERSION_CONFLICT',
    'Someone else changed this person’s record at the same time; read it again and retry.',
    'version-conflict',
  );
}

/** Whether PostgreSQL itself answered with an error (so the statement was rolled back). */
function hasSqlState(error: unknown): boolean {
  const e = error as { driverError?: { severity?: unknown; code?: unknown } };
  return typeof e.driverError?.severity === 'string' && typeof e.driverError.code === 'string';
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
