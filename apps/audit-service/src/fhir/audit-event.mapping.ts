import type { LogEntry } from '../log/ingest/entry-from-event';

/**
 * Log entries of access decisions as FHIR R4 AuditEvent resources in the shape of IHE Basic
 * Audit Log Patterns (BALP): a release of record data by the gateway is a RESTful `read`
 * (PatientRead); a decision an integration asked for (POST /v1/decisions: which of these
 * parts of the record may be shown?) is a `search-type` query (PatientQuery). No BALP
 * profile is claimed in `meta`: the log does not record network addresses, which BALP's
 * client and server agents require.
 */

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
// This ledger's own identifiers and codes (user ids, roles, purposes, data categories).
const LEDGER = 'urn:care-consent-ledger';
export const USER_ID_SYSTEM = `${LEDGER}:user-id`;
export const ROLE_SYSTEM = `${LEDGER}:role`;
export const PURPOSE_SYSTEM = `${LEDGER}:purpose-of-use`;
const SERVICE_SYSTEM = `${LEDGER}:service`;

const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

/** The log actions that are accesses to a person's record (decisions and releases). */
export const ACCESS_ACTIONS = ['record.disclosed', 'record.denied', 'access.decided'] as const;

export interface Coding {
  system: string;
  code: string;
  display?: string;
}
interface CodeableConcept {
  coding: Coding[];
}
interface Identifier {
  system?: string;
  value: string;
}
interface Reference {
  reference?: string;
  identifier?: Identifier;
  display?: string;
}

export interface AuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  contained: Record<string, unknown>[];
  type: Coding;
  subtype: Coding[];
  action: 'R' | 'E';
  recorded: string;
  outcome: '0' | '4';
  outcomeDesc: string;
  purposeOfEvent: CodeableConcept[];
  agent: {
    type: CodeableConcept;
    role?: CodeableConcept[];
    who: Reference;
    requestor: boolean;
    purposeOfUse?: CodeableConcept[];
  }[];
  source: { observer: Reference; type: Coding[] };
  entity: {
    what?: Reference;
    type: Coding;
    role?: Coding;
    description?: string;
    query?: string;
    detail?: { type: string; valueString: string }[];
  }[];
}

export interface Bundle {
  resourceType: 'Bundle';
  type: 'searchset';
  link: { relation: 'self' | 'next'; url: string }[];
  entry: { fullUrl: string; resource: AuditEvent; search: { mode: 'match' } }[];
}

/** HL7 purpose-of-use codes where one fits; every purpose also carries the ledger's code. */
const ACT_REASONS: Record<string, Coding | null> = {
  'direct-care': { system: ACT_REASON, code: 'TREAT', display: 'treatment' },
  emergency: { system: ACT_REASON, code: 'ETREAT', display: 'Emergency Treatment' },
  'care-quality-audit': {
    system: ACT_REASON,
    code: 'HQUALIMP',
    display: 'health quality improvement',
  },
  'service-planning': { system: ACT_REASON, code: 'HOPERAT', display: 'healthcare operations' },
  research: { system: ACT_REASON, code: 'HRESCH', display: 'healthcare research' },
  // No HL7 purpose means safeguarding adults or children: the ledger's code alone says it.
  safeguarding: null,
};

/** What a decision's log entry keeps in its details (see entry-from-event.ts). */
interface DecisionDetails {
  decisionId?: string;
  channel?: 'decision' | 'record';
  requested?: string[];
  permitted?: string[];
  denied?: { category: string; reasons: string[] }[];
  recipientOrg?: string;
  requesterRoles?: string[];
  caller?: { userId: string; org: string } | null;
  breakGlass?: { statute: string; windowClosesAt: string } | null;
  breakGlassWindowId?: string | null;
}

export interface MappingOptions {
  /**
   * Whether to name the member of staff. A person reading their own audit trail sees the
   * role and organisation of whoever looked, as in their disclosure register, not who.
   */
  identifyStaff: boolean;
}

/** The AuditEvent for one access decision's log entry. */
export function auditEventOf(entry: LogEntry, options: MappingOptions): AuditEvent {
  const d = entry.details as DecisionDetails;
  const read = d.channel === 'record';
  const roles = d.requesterRoles?.length ? d.requesterRoles : [entry.actor?.role ?? 'unknown'];
  const overridden = Boolean(d.breakGlass) || Boolean(d.breakGlassWindowId);
  const purposes: CodeableConcept[] = entry.purpose
    ? [
        {
          coding: [
            ...(ACT_REASONS[entry.purpose] ? [ACT_REASONS[entry.purpose] as Coding] : []),
            { system: PURPOSE_SYSTEM, code: entry.purpose },
          ],
        },
      ]
    : [];
  if (overridden) {
    purposes.push({ coding: [{ system: ACT_REASON, code: 'BTG', display: 'break the glass' }] });
  }
  const roleCodes = roles.map((code) => ({ coding: [{ system: ROLE_SYSTEM, code }] }));
  const org = entry.actor?.org;
  const contained: Record<string, unknown>[] = [
    {
      resourceType: 'PractitionerRole',
      id: 'requester',
      ...(options.identifyStaff && entry.actor
        ? { practitioner: { identifier: { system: USER_ID_SYSTEM, value: entry.actor.userId } } }
        : {}),
      ...(org ? { organization: { identifier: { system: ODS_CODE_SYSTEM, value: org } } } : {}),
      code: roleCodes,
    },
  ];
  const agent: AuditEvent['agent'] = [
    {
      type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
      role: roleCodes,
      who: { reference: '#requester' },
      requestor: true,
      purposeOfUse: purposes,
    },
  ];
  if (d.caller) {
    // The system that called the gateway on the requester's behalf.
    contained.push({
      resourceType: 'Device',
      id: 'caller',
      identifier: [{ system: USER_ID_SYSTEM, value: d.caller.userId }],
      owner: { identifier: { system: ODS_CODE_SYSTEM, value: d.caller.org } },
    });
    agent.push({
      type: { coding: [{ system: DICOM, code: '110150', display: 'Application' }] },
      who: { reference: '#caller' },
      requestor: false,
    });
  }
  const shown = read ? (d.permitted ?? entry.categories) : (d.requested ?? entry.categories);
  const denied = d.denied ?? [];
  const entity: AuditEvent['entity'] = [
    {
      what: { identifier: { system: NHS_NUMBER_SYSTEM, value: entry.subjectId ?? '' } },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    },
    {
      what: {
        identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${d.decisionId ?? ''}` },
        display: 'access decision',
      },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      description: read
        ? `Care record parts released: ${(d.permitted ?? []).join(', ') || 'none'}`
        : `Care record parts asked for: ${shown.join(', ')}`,
      detail: [
        { type: 'requested', valueString: (d.requested ?? []).join(',') },
        { type: 'permitted', valueString: (d.permitted ?? []).join(',') },
        ...(d.breakGlassWindowId
          ? [{ type: 'breakGlassWindowId', valueString: d.breakGlassWindowId }]
          : []),
      ],
    },
  ];
  if (!read) {
    const query = `purpose=${entry.purpose ?? ''}&categories=${shown.join(',')}`;
    entity.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(query, 'utf8').toString('base64'),
      description: query,
    });
  }
  entity.push({
    what: { identifier: { value: entry.correlationId } },
    type: { system: BALP_ENTITY_TYPE, code: 'XrequestId' },
  });
  return {
    resourceType: 'AuditEvent',
    id: entry.sourceEventId,
    contained,
    type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
    subtype: [
      read
        ? { system: RESTFUL_INTERACTION, code: 'read', display: 'read' }
        : { system: RESTFUL_INTERACTION, code: 'search-type', display: 'search-type' },
    ],
    action: read ? 'R' : 'E',
    recorded: entry.at,
    // A refusal is a minor failure (the HTTP 4xx kind); a partial permit succeeded for part.
    outcome: entry.outcome === 'deny' ? '4' : '0',
    outcomeDesc: [
      entry.outcome,
      ...(overridden && d.breakGlass ? [`safeguarding override (${d.breakGlass.statute})`] : []),
      ...denied.map((x) => `${x.category} not permitted (${x.reasons.join(', ')})`),
    ].join('; '),
    purposeOfEvent: purposes,
    agent,
    source: {
      observer: {
        identifier: { system: SERVICE_SYSTEM, value: 'sharing-gateway' },
        display: 'Care Consent Ledger sharing gateway',
      },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity,
  };
}

/** A searchset Bundle of AuditEvents; `next` when there is another page. */
export function searchsetOf(events: AuditEvent[], links: { self: string; next?: string }): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [
      { relation: 'self', url: links.self },
      ...(links.next ? [{ relation: 'next' as const, url: links.next }] : []),
    ],
    entry: events.map((resource) => ({
      fullUrl: `urn:uuid:${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
