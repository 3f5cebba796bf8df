import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import {
  SERVICE_CONFIG,
  TOPICS,
  TransportService,
  type EventEnvelope,
  type FieldProblem,
  type PublishedConsentEventType,
} from '#common';
import type { SharingGatewayEnv } from '../config/env';
import {
  emptyReplicaState,
  evolveReplica,
  replayReplica,
  type ReplicaEvent,
  type ReplicaState,
} from './replica-state';

const KNOWN_TYPES: ReadonlySet<string> = new Set<PublishedConsentEventType>([
  'consent.granted.v1',
  'consent.refused.v1',
  'consent.withdrawn.v1',
  'objection.raised.v1',
  'objection.decided.v1',
  'objection.withdrawn.v1',
  'national-opt-out.set.v1',
  'national-opt-out.cleared.v1',
  'contact-preferences.set.v1',
  'proxy.registered.v1',
  'proxy.revoked.v1',
]);

/** Throttle for recording "caught up": often enough for the staleness bound, not every poll. */
const CAUGHT_UP_WRITE_MS = 200;

/**
 * Builds the gateway's replica of people's consent state from `consent.events`: the events
 * themselves (so any past version can be replayed) and each person's current state.
 */
@Injectable()
export class ConsentReplicaConsumer implements OnModuleInit {
  private lastCaughtUpWrite = 0;
  private lastCaughtUpAsOf = 0;
  /** Latched: once the replica was confirmed current after start, readiness no longer asks. */
  private confirmedCurrent = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: TransportService,
    @Inject(SERVICE_CONFIG) private readonly config: SharingGatewayEnv,
  ) {}

  onModuleInit(): void {
    this.transport.subscribe('sharing-gateway.consent-replica', TOPICS.consent, {
      handle: (events, tx) => this.apply(events, tx),
      caughtUp: (asOf) => this.markCaughtUp(asOf),
    });
    this.transport.addReadinessCheck(() => this.readinessProblem());
  }

  /**
   * A gateway that has just started takes traffic only once the shared replica has been
   * confirmed current (by this instance or another), so a restart does not answer its first
   * requests with consent-state-stale. Afterwards a stale replica denies consent-dependent
   * categories but leaves the gateway in service: sharing for direct care under a public-task
   * agreement does not depend on consent and must not stop with the consent feed.
   */
  async readinessProblem(): Promise<FieldProblem | null> {
    if (this.confirmedCurrent) return null;
    const rows: { age_ms: string | null }[] = await this.dataSource.query(
      `SELECT (extract(epoch FROM clock_timestamp() - caught_up_at) * 1000)::text AS age_ms
         FROM gateway.consent_replica_status WHERE id = 1`,
    );
    const age = rows[0]?.age_ms == null ? null : Number(rows[0].age_ms);
    if (age !== null && age <= this.maxStalenessMs) {
      this.confirmedCurrent = true;
      return null;
    }
    return {
      field: 'consentReplica',
      problem:
        age === null
          ? 'the consent replica has not caught up yet'
          : `the consent replica last caught up ${Math.round(age)} ms ago, more than CONSENT_MAX_STALENESS_MS`,
    };
  }

  /** Applies a batch in the consumer's transaction (events arrive once each, in stream order). */
  async apply(envelopes: readonly EventEnvelope[], tx: EntityManager): Promise<void> {
    const events = envelopes
      .filter((e) => KNOWN_TYPES.has(e.type) && typeof e.subjectId === 'string')
      .map((e) => ({
        subjectId: e.subjectId as string,
        eventId: e.id,
        event: {
          type: e.type,
          data: e.data,
          streamVersion: e.streamVersion,
          occurredAt: e.occurredAt,
        } as ReplicaEvent,
      }));
    if (events.length > 0) {
      await tx.query(
        `INSERT INTO gateway.consent_replica_events
           (subject_id, stream_version, event_id, type, data, occurred_at)
         SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])
         ON CONFLICT DO NOTHING`,
        [
          events.map((e) => e.subjectId),
          events.map((e) => e.event.streamVersion),
          events.map((e) => e.eventId),
          events.map((e) => e.event.type),
          events.map((e) => JSON.stringify(e.event.data)),
          events.map((e) => e.event.occurredAt),
        ],
      );
      const bySubject = new Map<string, ReplicaEvent[]>();
      for (const e of events) {
        const list = bySubject.get(e.subjectId) ?? [];
        list.push(e.event);
        bySubject.set(e.subjectId, list);
      }
      const current = await this.currentStates(tx, [...bySubject.keys()]);
      const states: { subjectId: string; state: ReplicaState }[] = [];
      for (const [subjectId, list] of bySubject) {
        let state = current.get(subjectId) ?? emptyReplicaState();
        const ordered = list.sort((a, b) => a.streamVersion - b.streamVersion);
        // The common case applies events on top of the stored state; a gap (an event that
        // arrived ahead of an earlier one) is settled by replaying every stored event.
        const contiguous = ordered.every((e, i) => e.streamVersion === state.streamVersion + i + 1);
        if (contiguous) {
          for (const e of ordered) state = evolveReplica(state, e);
        } else {
          state = await this.replayStored(tx, subjectId);
        }
        states.push({ subjectId, state });
      }
      await tx.query(
        `INSERT INTO gateway.consent_replica (subject_id, stream_version, state, updated_at)
         SELECT s, v, st, now() FROM unnest($1::text[], $2::int[], $3::jsonb[]) AS t(s, v, st)
         ON CONFLICT (subject_id) DO UPDATE
           SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state, updated_at = now()
           WHERE gateway.consent_replica.stream_version < EXCLUDED.stream_version`,
        [
          states.map((s) => s.subjectId),
          states.map((s) => s.state.streamVersion),
          states.map((s) => JSON.stringify(s.state)),
        ],
      );
    }
    await tx.query(
      `UPDATE gateway.consent_replica_status
          SET applied_events = applied_events + $1,
              last_event_at = GREATEST(last_event_at, $2::timestamptz)`,
      [events.length, envelopes[envelopes.length - 1]?.occurredAt ?? null],
    );
  }

  /**
   * Records that the replica holds every consent event committed before `asOf` (before this
   * instant when not given). It never moves back, nor ahead of this database's clock. A Kafka
   * watermark is stamped by the consent database's clock: one running fast makes the replica
   * look fresher by up to its lead (never past this instant), one running slow makes it look
   * older, so the clocks' skew counts against CONSENT_MAX_STALENESS_MS.
   */
  async markCaughtUp(asOf?: Date): Promise<void> {
    // Idle polls report many times a second, each a little later; a Kafka watermark moves the
    // moment on by a whole interval, and dropping it would leave the replica looking that old.
    const now = Date.now();
    const at = asOf?.getTime() ?? now;
    if (
      now - this.lastCaughtUpWrite < CAUGHT_UP_WRITE_MS &&
      at - this.lastCaughtUpAsOf < CAUGHT_UP_WRITE_MS
    ) {
      return;
    }
    this.lastCaughtUpWrite = now;
    this.lastCaughtUpAsOf = at;
    await this.dataSource.query(
      `UPDATE gateway.consent_replica_status
          SET caught_up_at = GREATEST(caught_up_at,
                                      LEAST(coalesce($1::timestamptz, clock_timestamp()), clock_timestamp()))`,
      [asOf ?? null],
    );
  }

  /** How long a replica may go without confirming it is caught up (CONSENT_MAX_STALENESS_MS). */
  get maxStalenessMs(): number {
    return this.config.CONSENT_MAX_STALENESS_MS;
  }

  private async currentStates(
    tx: EntityManager,
    subjectIds: string[],
  ): Promise<Map<string, ReplicaState>> {
    const rows: { subject_id: string; state: ReplicaState }[] = await tx.query(
      `SELECT subject_id, state FROM gateway.consent_replica WHERE subject_id = ANY($1::text[])
       FOR UPDATE`,
      [subjectIds],
    );
    return new Map(rows.map((r) => [r.subject_id, r.state]));
  }

  private async replayStored(tx: EntityManager, subjectId: string): Promise<ReplicaState> {
    return replayReplica(await readReplicaEvents(tx, subjectId, null));
  }
}

/** A person's stored consent events, up to a stream version when one is given. */
export async function readReplicaEvents(
  db: Pick<EntityManager, 'query'>,
  subjectId: string,
  upToVersion: number | null,
): Promise<ReplicaEvent[]> {
  const rows: { type: string; data: unknown; stream_version: number; occurred_at: Date }[] =
    await db.query(
      `SELECT type, data, stream_version, occurred_at FROM gateway.consent_replica_events
        WHERE subject_id = $1 AND ($2::int IS NULL OR stream_version <= $2::int)
        ORDER BY stream_version`,
      [subjectId, upToVersion],
    );
  return rows.map(
    (r) =>
      ({
        type: r.type,
        data: r.data,
        streamVersion: r.stream_version,
        occurredAt: r.occurred_at.toISOString(),
      }) as ReplicaEvent,
  );
}
