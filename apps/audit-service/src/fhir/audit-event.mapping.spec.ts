import type { LogEntry } from '../log/ingest/entry-from-event';
import { auditEventOf, searchsetOf } from './audit-event.mapping';

const DECISION = '0b9f4a0e-8d0c-4c1e-9a57-3c0d5e6f7a8b';

/** A decision's log entry as entry-from-event.ts writes it. */
const entry = (over: Partial<LogEntry> = {}, details: Record<string, unknown> = {}): LogEntry => ({
  seq: 7,
  at: '2026-03-03T14:05:00.000Z',
  actor: { userId: 'lead-1', org: 'X26', role: 'safeguarding_lead' },
  subjectId: '9434765919',
  action: 'record.disclosed',
  outcome: 'permit',
  purpose: 'safeguarding',
  categories: ['care-plan'],
  legalBasis: { article6: null, article9: null, statutes: ['care-act-2014-s42'] },
  correlationId: 'corr-1',
  sourceEventId: '5c3d2e1f-0a9b-4c8d-8e7f-6a5b4c3d2e1f',
  sourceType: 'gateway.decision.v1',
  details: {
    decisionId: DECISION,
    channel: 'record',
    requested: ['care-plan'],
    permitted: ['care-plan'],
    denied: [],
    obligations: ['audit', 'notify-subject', 'ig-review'],
    recipientOrg: 'X26',
    requesterRoles: ['safeguarding_lead'],
    caller: null,
    breakGlass: { statute: 'care-act-2014-s42', windowClosesAt: '2026-03-04T14:05:00Z' },
    breakGlassWindowId: null,
    ...details,
  },
  ...over,
});

describe('auditEventOf (IHE BALP shape)', () => {
  it('maps a release of record data to a RESTful read of the patient’s record', () => {
    const event = auditEventOf(entry(), { identifyStaff: true });
    expect(event).toMatchObject({
      resourceType: 'AuditEvent',
      id: '5c3d2e1f-0a9b-4c8d-8e7f-6a5b4c3d2e1f',
      type: {
        system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
        code: 'rest',
      },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      recorded: '2026-03-03T14:05:00.000Z',
      outcome: '0',
      source: {
        observer: { identifier: { value: 'sharing-gateway' } },
        type: [{ code: '4', display: 'Application Server' }],
      },
    });
    // The patient, by NHS number; the decision, by its id; the request, by correlation id.
    expect(event.entity[0]).toEqual({
      what: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' } },
      type: {
        system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
        code: '1',
        display: 'Person',
      },
      role: {
        system: 'http://terminology.hl7.org/CodeSystem/object-role',
        code: '1',
        display: 'Patient',
      },
    });
    expect(event.entity[1].what?.identifier).toEqual({
      system: 'urn:ietf:rfc:3986',
      value: `urn:uuid:${DECISION}`,
    });
    expect(event.entity[1].description).toBe('Care record parts released: care-plan');
    expect(event.entity[2]).toMatchObject({
      what: { identifier: { value: 'corr-1' } },
      type: { code: 'XrequestId' },
    });
    // An override is a break-the-glass purpose as well as the purpose of use.
    expect(event.purposeOfEvent).toEqual([
      { coding: [{ system: 'urn:care-consent-ledger:purpose-of-use', code: 'safeguarding' }] },
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
            code: 'BTG',
            display: 'break the glass',
          },
        ],
      },
    ]);
    expect(event.outcomeDesc).toBe('permit; safeguarding override (care-act-2014-s42)');
  });

  it('names the requester by role and organisation, and the member of staff only for IG', () => {
    const ig = auditEventOf(entry(), { identifyStaff: true });
    expect(ig.agent).toEqual([
      {
        type: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
              code: 'IRCP',
              display: 'information recipient',
            },
          ],
        },
        role: [{ coding: [{ system: 'urn:care-consent-ledger:role', code: 'safeguarding_lead' }] }],
        who: { reference: '#requester' },
        requestor: true,
        purposeOfUse: ig.purposeOfEvent,
      },
    ]);
    expect(ig.contained).toEqual([
      {
        resourceType: 'PractitionerRole',
        id: 'requester',
        practitioner: {
          identifier: { system: 'urn:care-consent-ledger:user-id', value: 'lead-1' },
        },
        organization: {
          identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'X26' },
        },
        code: [{ coding: [{ system: 'urn:care-consent-ledger:role', code: 'safeguarding_lead' }] }],
      },
    ]);
    const own = auditEventOf(entry(), { identifyStaff: false });
    expect(own.contained[0]).not.toHaveProperty('practitioner');
    expect(JSON.stringify(own)).not.toContain('lead-1');
    expect(own.contained[0]).toHaveProperty('organization');
  });

  it('adds a system caller as a second agent', () => {
    const event = auditEventOf(entry({}, { caller: { userId: 'mosaic', org: 'X26' } }), {
      identifyStaff: true,
    });
    expect(event.agent[1]).toEqual({
      type: {
        coding: [
          {
            system: 'http://dicom.nema.org/resources/ontology/DCM',
            code: '110150',
            display: 'Application',
          },
        ],
      },
      who: { reference: '#caller' },
      requestor: false,
    });
    expect(event.contained[1]).toMatchObject({
      resourceType: 'Device',
      id: 'caller',
      identifier: [{ value: 'mosaic' }],
    });
  });

  it('maps a decision an integration asked for to a query, with what it asked', () => {
    const event = auditEventOf(
      entry(
        { action: 'access.decided', purpose: 'direct-care', outcome: 'partial' },
        {
          channel: 'decision',
          requested: ['care-plan', 'financial'],
          permitted: ['care-plan'],
          denied: [{ category: 'financial', reasons: ['no-agreement'] }],
          breakGlass: null,
        },
      ),
      { identifyStaff: true },
    );
    expect(event.subtype).toEqual([
      {
        system: 'http://hl7.org/fhir/restful-interaction',
        code: 'search-type',
        display: 'search-type',
      },
    ]);
    expect(event.action).toBe('E');
    expect(event.outcome).toBe('0');
    expect(event.outcomeDesc).toBe('partial; financial not permitted (no-agreement)');
    expect(event.purposeOfEvent).toEqual([
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
            code: 'TREAT',
            display: 'treatment',
          },
          { system: 'urn:care-consent-ledger:purpose-of-use', code: 'direct-care' },
        ],
      },
    ]);
    const query = event.entity.find((e) => e.role?.code === '24');
    expect(query?.description).toBe('purpose=direct-care&categories=care-plan,financial');
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toBe(query?.description);
  });

  it('records a refusal as a minor failure', () => {
    const event = auditEventOf(
      entry(
        { action: 'record.denied', outcome: 'deny', purpose: 'direct-care' },
        {
          permitted: [],
          requested: ['financial'],
          denied: [{ category: 'financial', reasons: ['no-agreement'] }],
          breakGlass: null,
        },
      ),
      { identifyStaff: true },
    );
    expect(event).toMatchObject({ outcome: '4', action: 'R' });
    expect(event.outcomeDesc).toBe('deny; financial not permitted (no-agreement)');
    expect(event.entity[1].description).toBe('Care record parts released: none');
  });

  it('marks a read inside an earlier override’s window as break-the-glass too', () => {
    const event = auditEventOf(entry({}, { breakGlass: null, breakGlassWindowId: DECISION }), {
      identifyStaff: true,
    });
    expect(event.purposeOfEvent.map((p) => p.coding[0].code)).toContain('BTG');
    expect(event.entity[1].detail).toContainEqual({
      type: 'breakGlassWindowId',
      valueString: DECISION,
    });
  });
});

describe('searchsetOf', () => {
  it('wraps events in a searchset Bundle with self and next links', () => {
    const event = auditEventOf(entry(), { identifyStaff: true });
    expect(
      searchsetOf([event], { self: '/fhir/AuditEvent?patient=9434765919', next: '/next' }),
    ).toEqual({
      resourceType: 'Bundle',
      type: 'searchset',
      link: [
        { relation: 'self', url: '/fhir/AuditEvent?patient=9434765919' },
        { relation: 'next', url: '/next' },
      ],
      entry: [{ fullUrl: `urn:uuid:${event.id}`, resource: event, search: { mode: 'match' } }],
    });
    expect(searchsetOf([], { self: '/s' }).link).toEqual([{ relation: 'self', url: '/s' }]);
  });
});
