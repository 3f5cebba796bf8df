import type { DataCategory, Purpose, Role, Statute } from './vocabulary';

/** Event types the sharing gateway publishes on `gateway.events`; stored, so never renamed. */
export const GATEWAY_EVENT_TYPES = {
  decision: 'gateway.decision.v1',
  organisationSet: 'gateway.organisation.set.v1',
  userSet: 'gateway.user.set.v1',
  agreementCreated: 'gateway.agreement.created.v1',
  agreementChanged: 'gateway.agreement.changed.v1',
  relationshipCreated: 'gateway.relationship.created.v1',
  relationshipEnded: 'gateway.relationship.ended.v1',
  accessGrantCreated: 'gateway.access-grant.created.v1',
} as const;
export type GatewayEventType = (typeof GATEWAY_EVENT_TYPES)[keyof typeof GATEWAY_EVENT_TYPES];

/**
 * `gateway.decision.v1`: one access decision (and, on the record route, the disclosure it
 * allowed), committed before any data left. Identifiers and codes only: the override's written
 * reason stays in the gateway's decision store.
 */
export interface DecisionEventData {
  decisionId: string;
  /** `decision` for POST /v1/decisions, `record` when the record proxy released data. */
  channel: 'decision' | 'record';
  subjectId: string;
  requester: { userId: string; org: string; roles: Role[] };
  /** The system that called on the requester's behalf, when there was one. */
  caller: { userId: string; org: string } | null;
  recipientOrg: string;
  purpose: Purpose;
  requested: DataCategory[];
  outcome: 'permit' | 'partial' | 'deny';
  permitted: DataCategory[];
  denied: { category: DataCategory; reasons: string[] }[];
  legalBasis: {
    article6: string | null;
    article9: string | null;
    statutes: Statute[];
    agreementIds: string[];
    source: 'agreement' | 'break-glass' | 'none';
  };
  obligations: ('audit' | 'notify-subject' | 'ig-review')[];
  /** How need-to-know was met: a relationship, an access grant, an override, or not at all. */
  needToKnow: 'relationship' | 'access-grant' | 'break-glass' | 'none';
  breakGlass: { statute: Statute; windowClosesAt: string } | null;
  /** The override window this decision relied on, when made inside one. */
  breakGlassWindowId: string | null;
  consentVersion: number;
  policyVersion: string;
  decidedAt: string;
}
