import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DomainError,
  GATEWAY_EVENT_TYPES,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type AuthenticatedUser,
  type DataCategory,
  type DecisionEventData,
  type Logger,
  type Purpose,
  type Role,
  type Statute,
} from '#common';
import type { SharingGatewayEnv } from '../config/env';
import { DEFAULT_POLICY_CONFIG, evaluate } from '../policy/evaluate';
import type {
  AgreementFacts,
  Decision,
  DecisionFacts,
  DecisionRequest,
  PolicyConfig,
} from '../policy/policy.types';
import { DecisionFactsRepository } from './decision-facts.repository';
import { DecisionWriter } from './decision-writer';
import { GatewayMetrics } from './gateway-metrics';

/** What a caller asks, over either route. */
export interface DecisionInput {
  caller: AuthenticatedUser;
  subjectId: string;
  purposeOfUse: Purpose;
  dataCategories: DataCategory[];
  recipientOrg: string | null;
  onBehalfOf: string | null;
  breakGlass: { reason: string; statutoryBasis: Statute } | null;
  channel: 'decision' | 'record';
  correlationId: string;
}

/**
 * The facts as stored with a decision. Agreements are kept by reference: copying every agreement
 * naming the organisation (~26) made each body ~15 KB and capped write throughput; a replay
 * rebuilds them from reference_history as visible in the decision's snapshot anyway. The
 * agreements whose basis the decision used are also kept in full, for a reader of the decision.
 */
export type StoredFacts = Omit<DecisionFacts, 'agreements'> & {
  agreements: { agreementId: string; version: number }[];
  agreementsUsed: AgreementFacts[];
};

/** A decision as stored: the answer, the request and the facts it was made from. */
export interface StoredDecision {
  decisionId: string;
  decidedAt: string;
  channel: 'decision' | 'record';
  correlationId: string;
  caller: { userId: string; org: string; roles: Role[] };
  request: DecisionRequest;
  facts: StoredFacts;
  /** The PostgreSQL snapshot the facts were read in (for replay). */
  snapshot: string;
  decision: Decision;
  breakGlassWindow: { opensAt: string; closesAt: string; statute: Statute } | null;
}

/** The public answer of POST /v1/decisions (API.md). */
export function decisionResponse(stored: StoredDecision): Record<string, unknown> {
  const d = stored.decision;
  return {
    decisionId: stored.decisionId,
    outcome: d.outcome,
    permitted: d.permitted,
    denied: d.denied,
    legalBasis: d.legalBasis,
    obligations: d.obligations,
    consentVersion: d.consentVersion,
    policyVersion: d.policyVersion,
    explanation: d.explanation,
    decidedAt: stored.decidedAt,
    subjectId: stored.request.subjectId,
    requesterUserId: stored.request.requesterUserId,
    ...(stored.breakGlassWindow ? { breakGlassWindow: stored.breakGlassWindow } : {}),
    ...(d.breakGlassWindowId ? { breakGlassWindowId: d.breakGlassWindowId } : {}),
  };
}

/** How the requester's need to know was met, for the audit log's confidentiality flags. */
function needToKnowOf(
  request: DecisionRequest,
  facts: DecisionFacts,
  decision: Decision,
): DecisionEventData['needToKnow'] {
  if (decision.breakGlassUsed || decision.breakGlassWindowId) return 'break-glass';
  const at = new Date(request.at).getTime();
  const within = (from: string, until: string | null): boolean =>
    new Date(from).getTime() <= at && (until === null || at < new Date(until).getTime());
  if (facts.relationships.some((r) => within(r.validFrom, r.validUntil))) return 'relationship';
  if (
    facts.accessGrants.some(
      (g) => g.purpose === request.purposeOfUse && at < new Date(g.validUntil).getTime(),
    )
  )
    return 'access-grant';
  return 'none';
}

/**
 * Decides: resolves who is asking, reads the facts in one snapshot, evaluates the pure policy,
 * and stores the decision with its inputs and its audit event. Returns only once committed;
 * when the decision cannot be stored the caller gets 503 and nothing may be released.
 */
@Injectable()
export class DecisionService {
  readonly policy: PolicyConfig;

  constructor(
    private readonly dataSource: DataSource,
    private readonly facts: DecisionFactsRepository,
    private readonly writer: DecisionWriter,
    @Inject(SERVICE_CONFIG) private readonly config: SharingGatewayEnv,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.policy = { ...DEFAULT_POLICY_CONFIG, breakGlassRoles: config.BREAK_GLASS_ROLES };
  }

  async decide(input: DecisionInput): Promise<StoredDecision> {
    const requesterUserId = this.requesterOf(input);
    const loaded = await this.unavailableOnFailure(
      () =>
        this.facts.live(
          requesterUserId,
          input.recipientOrg,
          input.subjectId,
          this.config.CONSENT_MAX_STALENESS_MS,
        ),
      'read the facts for',
    );
    const facts = loaded.facts;
    if (input.onBehalfOf !== null && facts.user === null) {
      throw new DomainError(
        'ON_BEHALF_OF_UNKNOWN',
        `onBehalfOf names ${input.onBehalfOf}, who is not a registered user.`,
        'rule-violation',
        [{ field: 'onBehalfOf', problem: 'onBehalfOf must be a registered user id' }],
      );
    }
    // A staff caller acts only in roles both registered and in their token.
    if (facts.user && !input.caller.roles.includes('system')) {
      facts.user = {
        ...facts.user,
        roles: facts.user.roles.filter((r) => input.caller.roles.includes(r)),
      };
    }
    const request: DecisionRequest = {
      subjectId: input.subjectId,
      purposeOfUse: input.purposeOfUse,
      dataCategories: [...new Set(input.dataCategories)],
      requesterUserId,
      recipientOrg: input.recipientOrg,
      breakGlass: input.breakGlass,
      at: loaded.at,
    };
    const decision = evaluate(request, facts, this.policy);
    const decisionId = randomUUID();
    const breakGlassWindow =
      decision.breakGlassUsed && input.breakGlass
        ? {
            opensAt: loaded.at,
            closesAt: new Date(
              new Date(loaded.at).getTime() + this.config.BREAK_GLASS_WINDOW_HOURS * 3_600_000,
            ).toISOString(),
            statute: input.breakGlass.statutoryBasis,
          }
        : null;
    const stored: StoredDecision = {
      decisionId,
      decidedAt: loaded.at,
      channel: input.channel,
      correlationId: input.correlationId,
      caller: { userId: input.caller.userId, org: input.caller.org, roles: input.caller.roles },
      request,
      facts: storedFacts(facts, decision),
      snapshot: loaded.snapshot,
      decision,
      breakGlassWindow,
    };
    const isSystem = input.caller.roles.includes('system');
    const eventData: DecisionEventData = {
      decisionId,
      channel: input.channel,
      subjectId: input.subjectId,
      requester: {
        userId: requesterUserId,
        org: facts.user?.org ?? input.caller.org,
        roles: facts.user?.roles ?? [],
      },
      caller: isSystem ? { userId: input.caller.userId, org: input.caller.org } : null,
      recipientOrg: facts.organisation?.odsCode ?? input.recipientOrg ?? input.caller.org,
      purpose: request.purposeOfUse,
      requested: request.dataCategories,
      outcome: decision.outcome,
      permitted: decision.permitted,
      denied: decision.denied.map((d) => ({
        category: d.category,
        reasons: d.reasons.map((r) => r.code),
      })),
      legalBasis: decision.legalBasis,
      obligations: decision.obligations,
      needToKnow: needToKnowOf(request, facts, decision),
      breakGlass: breakGlassWindow
        ? { statute: breakGlassWindow.statute, windowClosesAt: breakGlassWindow.closesAt }
        : null,
      breakGlassWindowId: decision.breakGlassWindowId,
      consentVersion: decision.consentVersion,
      policyVersion: decision.policyVersion,
      decidedAt: loaded.at,
    };
    await this.unavailableOnFailure(
      () =>
        this.writer.write({
          decisionId,
          decidedAt: loaded.at,
          subjectId: input.subjectId,
          requesterUserId,
          callerUserId: input.caller.userId,
          outcome: decision.outcome,
          channel: input.channel,
          correlationId: input.correlationId,
          body: stored,
          window: breakGlassWindow
            ? {
                userId: requesterUserId,
                subjectId: input.subjectId,
                statute: breakGlassWindow.statute,
                opensAt: breakGlassWindow.opensAt,
                closesAt: breakGlassWindow.closesAt,
              }
            : null,
          event: {
            type: GATEWAY_EVENT_TYPES.decision,
            streamId: `decision-${decisionId}`,
            streamVersion: 1,
            subjectId: input.subjectId,
            actor: {
              userId: requesterUserId,
              org: eventData.requester.org,
              role: isSystem ? 'system' : (eventData.requester.roles[0] ?? input.caller.roles[0]),
            },
            correlationId: input.correlationId,
            causationId: null,
            data: eventData,
          },
        }),
      'record',
    );
    this.metrics.decisions.inc({
      outcome: decision.outcome,
      channel: input.channel,
      break_glass: decision.breakGlassUsed ? 'used' : decision.breakGlassWindowId ? 'window' : 'no',
    });
    if (loaded.replicaAgeMs !== null) this.metrics.replicaAge.set(loaded.replicaAgeMs / 1000);
    return stored;
  }

  /** A stored decision, or 404. */
  async find(decisionId: string): Promise<StoredDecision> {
    const rows: { body: StoredDecision }[] = await this.dataSource.query(
      `SELECT body FROM gateway.decisions WHERE decision_id = $1`,
      [decisionId],
    );
    if (rows.length === 0) {
      throw new DomainError('DECISION_NOT_FOUND', `No decision ${decisionId} exists.`, 'not-found');
    }
    return rows[0].body;
  }

  /** Re-evaluates a stored decision from its request and the facts as of its snapshot. */
  async replay(
    decisionId: string,
  ): Promise<{ decisionId: string; matches: boolean; original: Decision; replayed: Decision }> {
    const stored = await this.find(decisionId);
    const facts = await this.facts.asOf({
      snapshot: stored.snapshot,
      requesterUserId: stored.request.requesterUserId,
      recipientOrg: stored.request.recipientOrg,
      subjectId: stored.request.subjectId,
      consentVersion: stored.decision.consentVersion,
      consentStale: stored.facts.consent.stale,
    });
    if (facts.user && !stored.caller.roles.includes('system')) {
      facts.user = {
        ...facts.user,
        roles: facts.user.roles.filter((r) => stored.caller.roles.includes(r)),
      };
    }
    const replayed = evaluate(stored.request, facts, {
      ...this.policy,
      policyVersion: stored.decision.policyVersion,
    });
    return {
      decisionId,
      matches: sameDecision(stored.decision, replayed),
      original: stored.decision,
      replayed,
    };
  }

  private requesterOf(input: DecisionInput): string {
    const isSystem = input.caller.roles.includes('system');
    if (isSystem && input.onBehalfOf === null) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: onBehalfOf.', 'invalid', [
        {
          field: 'onBehalfOf',
          problem: 'a system caller must name the user it acts for in onBehalfOf',
        },
      ]);
    }
    if (!isSystem && input.onBehalfOf !== null && input.onBehalfOf !== input.caller.userId) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid: onBehalfOf.', 'invalid', [
        { field: 'onBehalfOf', problem: 'only system callers may act on behalf of another user' },
      ]);
    }
    return isSystem ? (input.onBehalfOf as string) : input.caller.userId;
  }

  /** Any failure to read facts or commit the decision is a 503: fail closed, never a guess. */
  private async unavailableOnFailure<T>(work: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.logger.error({ err: error }, `could not ${doing} a decision`);
      throw new DomainError(
        'DECISION_NOT_RECORDED',
        `The decision could not be ${doing === 'record' ? 'recorded' : 'made'}; nothing was released. Try again shortly.`,
        'unavailable',
      );
    }
  }
}

function storedFacts(facts: DecisionFacts, decision: Decision): StoredFacts {
  const used = decision.legalBasis.agreementIds;
  return {
    ...facts,
    agreements: facts.agreements.map((a) => ({ agreementId: a.agreementId, version: a.version })),
    agreementsUsed: facts.agreements.filter((a) => used.includes(a.agreementId)),
  };
}

/** Two decisions agree when they permit and deny the same things for the same reasons. */
export function sameDecision(a: Decision, b: Decision): boolean {
  // Stored decisions come back from jsonb with their keys reordered: compare by value.
  const essence = (d: Decision): unknown => ({
    outcome: d.outcome,
    permitted: d.permitted,
    denied: d.denied.map((x) => ({ category: x.category, codes: x.reasons.map((r) => r.code) })),
    legalBasis: d.legalBasis,
    obligations: d.obligations,
    consentVersion: d.consentVersion,
    breakGlassUsed: d.breakGlassUsed,
    breakGlassWindowId: d.breakGlassWindowId,
  });
  return isDeepStrictEqual(essence(a), essence(b));
}
