import { Injectable, Optional } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { DataCategory, OrganisationKind, Purpose, Role, Statute } from '#common';
import { readReplicaEvents } from '../consent-replica/consent-replica.consumer';
import { replayReplica, type ReplicaState } from '../consent-replica/replica-state';
import type {
  AccessGrantFacts,
  AgreementFacts,
  BreakGlassWindowFacts,
  DecisionFacts,
  OrganisationFacts,
  RelationshipFacts,
  UserFacts,
} from '../policy/policy.types';
import { CallBatcher, type BatchPolicy } from './call-batcher';
import { GatewayMetrics } from './gateway-metrics';

/** Reference records as stored in current tables and in reference_history (same shapes). */
interface UserBody {
  userId: string;
  org: string;
  roles: Role[];
  teams: string[];
  igTrainingCompletedOn: string | null;
  accountEndsOn: string | null;
}
interface OrganisationBody {
  odsCode: string;
  kind: OrganisationKind;
  country: string;
}
export interface AgreementBody {
  agreementId: string;
  version: number;
  parties: string[];
  roles: Role[];
  purposes: Purpose[];
  dataCategories: DataCategory[];
  legalBasis: {
    article6: AgreementFacts['legalBasis']['article6'];
    article9?: string;
    statutes: Statute[];
  };
  validFrom: string;
  validUntil: string | null;
  status: AgreementFacts['status'];
  internationalTransferSafeguards?: string | null;
}
interface RelationshipBody {
  relationshipId: string;
  userId: string | null;
  teamId: string | null;
  subjectId: string;
  type: string;
  validFrom: string;
  validUntil: string | null;
}
interface GrantBody {
  grantId: string;
  userId: string;
  purpose: Purpose;
  validUntil: string;
}
interface WindowBody {
  decisionId: string;
  statute: Statute;
  opensAt: string;
  closesAt: string;
}

/** Facts as read, with what a replay needs to read them again. */
export interface LoadedFacts {
  facts: DecisionFacts;
  /** The instant the facts were read at (the decision's time). */
  at: string;
  /** The PostgreSQL snapshot the facts were read in: a replay sees exactly these rows. */
  snapshot: string;
  /** How long ago the consent replica last confirmed it was caught up (null: never). */
  replicaAgeMs: number | null;
}

const iso = (value: string | null | undefined): string | null =>
  value ? new Date(value).toISOString() : null;

function userFacts(b: UserBody | null): UserFacts | null {
  return b
    ? {
        userId: b.userId,
        org: b.org,
        roles: b.roles,
        teams: b.teams,
        igTrainingCompletedOn: b.igTrainingCompletedOn,
        accountEndsOn: b.accountEndsOn,
      }
    : null;
}

function organisationFacts(b: OrganisationBody | null): OrganisationFacts | null {
  return b ? { odsCode: b.odsCode, kind: b.kind, country: b.country } : null;
}

export function agreementFacts(b: AgreementBody): AgreementFacts {
  return {
    agreementId: b.agreementId,
    version: b.version,
    parties: b.parties,
    roles: b.roles,
    purposes: b.purposes,
    dataCategories: b.dataCategories,
    legalBasis: {
      article6: b.legalBasis.article6,
      article9: (b.legalBasis.article9 ?? null) as AgreementFacts['legalBasis']['article9'],
      statutes: b.legalBasis.statutes,
    },
    validFrom: iso(b.validFrom) as string,
    validUntil: iso(b.validUntil),
    status: b.status,
    internationalTransferSafeguards: b.internationalTransferSafeguards ?? null,
  };
}

function relationshipFacts(b: RelationshipBody): RelationshipFacts {
  return {
    relationshipId: b.relationshipId,
    userId: b.userId,
    teamId: b.teamId,
    subjectId: b.subjectId,
    type: b.type,
    validFrom: iso(b.validFrom) as string,
    validUntil: iso(b.validUntil),
  };
}

function grantFacts(b: GrantBody): AccessGrantFacts {
  return {
    grantId: b.grantId,
    userId: b.userId,
    purpose: b.purpose,
    validUntil: iso(b.validUntil) as string,
  };
}

function windowFacts(b: WindowBody): BreakGlassWindowFacts {
  return {
    decisionId: b.decisionId,
    statute: b.statute,
    opensAt: iso(b.opensAt) as string,
    closesAt: iso(b.closesAt) as string,
  };
}

/** The order PostgreSQL gives uuids (and ASCII text): live reads and replays list alike. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether an agreement names the organisation, by ODS code or by kind. */
function namesOrganisation(
  agreement: Pick<AgreementBody, 'parties'>,
  org: OrganisationBody | null,
): boolean {
  return !!org && agreement.parties.some((p) => p === org.odsCode || p === `kind:${org.kind}`);
}

/** A row of gateway.agreements `a` in the shape of its reference_history body. */
export const AGREEMENT_JSON = `json_build_object('agreementId', a.agreement_id,
  'version', a.version, 'parties', a.parties, 'roles', a.roles,
  'purposes', a.purposes, 'dataCategories', a.data_categories,
  'legalBasis', a.legal_basis, 'validFrom', a.valid_from,
  'validUntil', a.valid_until, 'status', a.status,
  'internationalTransferSafeguards', a.international_transfer_safeguards)`;

/**
 * Identifies the contents of gateway.agreements as a snapshot sees them. Every change to an
 * agreement (controllers only; agreements are never deleted) inserts a row or raises one row's
 * version, so count + sum(version) grows with each committed change and two snapshots with the
 * same value see the same rows. max(updated_at) alone would not do: updated_at is the writer's
 * transaction start, so a change committing after a later-started one can leave it unchanged.
 */
const AGREEMENTS_VERSION = `count(*) || '/' || coalesce(sum(version), 0) || '/' ||
  coalesce(extract(epoch FROM max(updated_at)), 0)`;

/**
 * One round trip for a batch of decisions: everything each reads, in one snapshot, in the same
 * shapes as the reference history so live reads and replays share one mapping. The asks come as
 * one json array ($1: n from 1, requester, recipient organisation, person), one answer row each,
 * in order. Agreements come back (on the first row) only when their version in this snapshot
 * differs from the caller's cached one ($2), so a cached copy is used only when it is exactly
 * what this snapshot sees (and a replay rebuilds).
 *
 * Json rather than arrays: PostgreSQL plans unnest() of a known array by its length, so each
 * batch size costed differently and the named statement was re-planned (~0.3 ms) on every call;
 * json_to_recordset() is costed alike for any batch and the cached generic plan is kept.
 */
export const LIVE_FACTS = `
  WITH shared AS MATERIALIZED (
         SELECT pg_current_snapshot()::text AS snapshot,
                statement_timestamp() AS at,
                (SELECT ${AGREEMENTS_VERSION} FROM gateway.agreements) AS agreements_version,
                (SELECT caught_up_at FROM gateway.consent_replica_status WHERE id = 1) AS caught_up_at),
       asked AS (
         SELECT * FROM json_to_recordset($1::json)
                    AS q(n int, user_id text, org text, subject_id text))
  SELECT q.n, s.snapshot, s.at, s.agreements_version, s.caught_up_at,
         CASE WHEN q.n = 1 AND s.agreements_version IS DISTINCT FROM $2::text THEN
           (SELECT coalesce(json_agg(${AGREEMENT_JSON} ORDER BY a.agreement_id), '[]')
              FROM gateway.agreements a)
         END AS agreements,
         CASE WHEN u.user_id IS NOT NULL THEN
           json_build_object('userId', u.user_id, 'org', u.org, 'roles', u.roles, 'teams', u.teams,
             'igTrainingCompletedOn', u.ig_training_completed_on, 'accountEndsOn', u.account_ends_on)
         END AS "user",
         (SELECT json_build_object('odsCode', o.ods_code, 'kind', o.kind, 'country', o.country)
            FROM gateway.organisations o WHERE o.ods_code = coalesce(q.org, u.org)) AS organisation,
         (SELECT coalesce(json_agg(json_build_object('relationshipId', r.relationship_id,
                   'userId', r.user_id, 'teamId', r.team_id, 'subjectId', r.subject_id,
                   'type', r.type, 'validFrom', r.valid_from, 'validUntil', r.valid_until)
                   ORDER BY r.valid_from, r.relationship_id), '[]')
            FROM gateway.relationships r
           WHERE r.subject_id = q.subject_id AND r.ended_at IS NULL
             AND (r.user_id = q.user_id OR r.team_id = ANY(coalesce(u.teams, '{}')))) AS relationships,
         (SELECT coalesce(json_agg(json_build_object('grantId', g.grant_id, 'userId', g.user_id,
                   'purpose', g.purpose, 'validUntil', g.valid_until)
                   ORDER BY g.grant_id), '[]')
            FROM gateway.access_grants g
           WHERE g.user_id = q.user_id AND g.valid_until > now()) AS grants,
         (SELECT c.state FROM gateway.consent_replica c WHERE c.subject_id = q.subject_id) AS consent,
         (SELECT coalesce(json_agg(json_build_object('decisionId', w.decision_id,
                   'statute', w.statute, 'opensAt', w.opens_at, 'closesAt', w.closes_at)
                   ORDER BY w.opens_at), '[]')
            FROM gateway.break_glass_windows w
           WHERE w.user_id = q.user_id AND w.subject_id = q.subject_id AND w.closes_at > now()) AS windows
    FROM shared s
   CROSS JOIN asked q
    LEFT JOIN LATERAL (SELECT * FROM gateway.users WHERE user_id = q.user_id) u ON true
   ORDER BY q.n`;

interface LiveRow {
  n: number;
  snapshot: string;
  at: Date;
  user: UserBody | null;
  organisation: OrganisationBody | null;
  agreements_version: string;
  /** All agreements, ordered by id, on the first row; null when the version matched the cache. */
  agreements: AgreementBody[] | null;
  relationships: RelationshipBody[];
  grants: GrantBody[];
  consent: ReplicaState | null;
  caught_up_at: Date | null;
  windows: WindowBody[];
}

/** What one decision asks the facts of. */
export interface FactsAsk {
  requesterUserId: string;
  recipientOrg: string | null;
  subjectId: string;
}

/** An ask as a row of LIVE_FACTS' $1. */
export function askRow(ask: FactsAsk, i: number): Record<string, unknown> {
  return {
    n: i + 1,
    user_id: ask.requesterUserId,
    org: ask.recipientOrg,
    subject_id: ask.subjectId,
  };
}

/**
 * Fact reads for concurrent decisions go to PostgreSQL together: one statement per batch instead
 * of one per decision. A round trip per decision cost PostgreSQL more than the reads themselves
 * (context switches between 20 backends on a small machine, a portal and a result per read).
 */
const FACT_BATCHES: BatchPolicy = { maxBatch: 64, maxInFlight: 2, minParallelBatch: 8 };

/** Every agreement at one version of gateway.agreements, and those naming each organisation. */
class AgreementsAt {
  private readonly naming = new Map<string, AgreementFacts[]>();

  constructor(
    readonly version: string,
    private readonly all: readonly AgreementFacts[],
  ) {}

  /** Agreements naming the organisation by ODS code or kind, ordered by id (as the SQL was). */
  forOrganisation(org: OrganisationBody | null): AgreementFacts[] {
    if (org === null) return [];
    const key = `${org.odsCode}\n${org.kind}`;
    let found = this.naming.get(key);
    if (found === undefined) {
      found = this.all.filter((a) => namesOrganisation(a, org));
      this.naming.set(key, found);
    }
    return found;
  }
}

/** Shared by every decision reading this version: nothing may change them. */
function frozen(a: AgreementFacts): AgreementFacts {
  for (const value of [a.parties, a.roles, a.purposes, a.dataCategories, a.legalBasis.statutes]) {
    Object.freeze(value);
  }
  Object.freeze(a.legalBasis);
  return Object.freeze(a);
}

/** Reads the facts a decision needs: live for a new decision, as of its snapshot for a replay. */
@Injectable()
export class DecisionFactsRepository {
  private agreements: AgreementsAt | null = null;
  private readonly reads = new CallBatcher<FactsAsk, { row: LiveRow; agreements: AgreementsAt }>(
    FACT_BATCHES,
    (asks) => this.readBatch(asks),
  );

  constructor(
    private readonly dataSource: DataSource,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  /** The version of gateway.agreements the cached agreements are at, if any. */
  get agreementsVersion(): string | null {
    return this.agreements?.version ?? null;
  }

  /** The facts now, for the requester, recipient organisation and person. */
  async live(
    requesterUserId: string,
    recipientOrg: string | null,
    subjectId: string,
    maxStalenessMs: number,
  ): Promise<LoadedFacts> {
    const { row, agreements } = await this.reads.call({ requesterUserId, recipientOrg, subjectId });
    const consent = row.consent ?? {
      streamVersion: 0,
      consents: [],
      objections: [],
      nationalOptOut: false,
    };
    // A replica that has not confirmed being caught up within the bound may be missing a
    // withdrawal or an objection: consent-dependent categories are then denied, never guessed.
    const replicaAgeMs =
      row.caught_up_at === null ? null : row.at.getTime() - row.caught_up_at.getTime();
    const stale = replicaAgeMs === null || replicaAgeMs > maxStalenessMs;
    return {
      replicaAgeMs,
      at: row.at.toISOString(),
      snapshot: row.snapshot,
      facts: {
        user: userFacts(row.user),
        organisation: organisationFacts(row.organisation),
        agreements: agreements.forOrganisation(row.organisation),
        relationships: row.relationships.map(relationshipFacts),
        accessGrants: row.grants.map(grantFacts),
        consent: { ...consent, stale },
        breakGlassWindows: row.windows.map(windowFacts),
      },
    };
  }

  /** One statement for a batch of asks: a row each, and the agreements of that snapshot. */
  private async readBatch(asks: FactsAsk[]): Promise<{ row: LiveRow; agreements: AgreementsAt }[]> {
    // Taken before the query: another batch may replace the cache while this one is out.
    const cached = this.agreements;
    // A named statement is parsed and planned once per connection: through TypeORM's
    // dataSource.query it was parsed and planned on every call.
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    const { rows } = await pool.query<LiveRow>({
      name: 'gateway-live-facts',
      text: LIVE_FACTS,
      values: [JSON.stringify(asks.map(askRow)), cached?.version ?? null],
    });
    this.metrics?.factsBatch.observe(asks.length);
    const first = rows[0];
    let agreements: AgreementsAt;
    if (first.agreements !== null) {
      agreements = new AgreementsAt(
        first.agreements_version,
        first.agreements.map((a) => frozen(agreementFacts(a))),
      );
      this.agreements = agreements;
    } else if (cached !== null && cached.version === first.agreements_version) {
      agreements = cached;
    } else {
      throw new Error('the facts query returned no agreements and none were cached');
    }
    return rows.map((row, i) => {
      // Each decision gets the row of its own ask, never a neighbour's: checked, not assumed.
      if (row.n !== i + 1) throw new Error(`facts row ${row.n} came back in place ${i + 1}`);
      return { row, agreements };
    });
  }

  /**
   * The facts exactly as a past decision saw them: reference records and override windows
   * visible in its snapshot, and the person's consent replayed up to the version it used.
   * Whether the replica was stale is not reconstructible and is taken from the stored inputs.
   */
  async asOf(options: {
    snapshot: string;
    requesterUserId: string;
    recipientOrg: string | null;
    subjectId: string;
    consentVersion: number;
    consentStale: boolean;
  }): Promise<DecisionFacts> {
    const { snapshot, requesterUserId, subjectId } = options;
    const rows: { kind: string; key: string; version: number; body: Record<string, unknown> }[] =
      await this.dataSource.query(
        `SELECT DISTINCT ON (kind, key) kind, key, version, body
           FROM gateway.reference_history
          WHERE pg_visible_in_snapshot(transaction_id, $1::pg_snapshot)
            AND (kind IN ('organisation', 'agreement')
                 OR (kind = 'user' AND key = $2)
                 OR (kind = 'relationship' AND subject_id = $3)
                 OR (kind = 'access-grant' AND user_id = $2))
          ORDER BY kind, key, version DESC`,
        [snapshot, requesterUserId, subjectId],
      );
    const of = <T>(kind: string): T[] =>
      rows.filter((r) => r.kind === kind).map((r) => ({ ...r.body, version: r.version }) as T);
    const user = of<UserBody>('user')[0] ?? null;
    const orgCode = options.recipientOrg ?? user?.org ?? null;
    const organisation =
      of<OrganisationBody>('organisation').find((o) => o.odsCode === orgCode) ?? null;
    const teams = new Set(user?.teams ?? []);
    const windows: WindowBody[] = await this.dataSource.query(
      `SELECT decision_id AS "decisionId", statute, opens_at AS "opensAt", closes_at AS "closesAt"
         FROM gateway.break_glass_windows
        WHERE user_id = $1 AND subject_id = $2
          AND pg_visible_in_snapshot(transaction_id, $3::pg_snapshot)
        ORDER BY opens_at`,
      [requesterUserId, subjectId, snapshot],
    );
    const consent = replayReplica(
      await readReplicaEvents(this.dataSource, subjectId, options.consentVersion),
    );
    return {
      user: userFacts(user),
      organisation: organisationFacts(organisation),
      agreements: of<AgreementBody>('agreement')
        .filter((a) => namesOrganisation(a, organisation))
        .sort((a, b) => byCodePoint(a.agreementId, b.agreementId))
        .map(agreementFacts),
      relationships: of<RelationshipBody>('relationship')
        .filter(
          (r) =>
            (r.userId !== null && r.userId === requesterUserId) ||
            (r.teamId !== null && teams.has(r.teamId)),
        )
        .sort((a, b) =>
          a.validFrom === b.validFrom
            ? byCodePoint(a.relationshipId, b.relationshipId)
            : new Date(a.validFrom).getTime() - new Date(b.validFrom).getTime(),
        )
        .map(relationshipFacts),
      accessGrants: of<GrantBody>('access-grant')
        .sort((a, b) => byCodePoint(a.grantId, b.grantId))
        .map(grantFacts),
      consent: { ...consent, stale: options.consentStale },
      breakGlassWindows: windows.map(windowFacts),
    };
  }
}
