import {
  consentStatus,
  type ConsentRecord,
  type ObjectionRecord,
  type SubjectState,
} from '../domain/state';

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const LEDGER = 'https://care-consent-ledger.org';

// HL7 v3 PurposeOfUse codes where one fits; our own code is always given as well.
const PURPOSE_OF_USE: Record<string, { code: string; display: string } | undefined> = {
  'direct-care': { code: 'TREAT', display: 'treatment' },
  emergency: { code: 'ETREAT', display: 'emergency treatment' },
  safeguarding: { code: 'PUBHLTH', display: 'public health' },
  'care-quality-audit': { code: 'HQUALIMP', display: 'health quality improvement' },
  'service-planning': { code: 'HOPERAT', display: 'healthcare operations' },
  research: { code: 'HRESCH', display: 'healthcare research' },
};

type Scoped = Pick<ConsentRecord, 'purposes' | 'recipients' | 'dataCategories'>;

function provision(
  record: Scoped,
  type: 'permit' | 'deny',
  period?: { start: string; end?: string },
) {
  return {
    type,
    ...(period ? { period } : {}),
    actor: record.recipients.map((recipient) => ({
      role: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
            code: 'IRCP',
            display: 'information recipient',
          },
        ],
      },
      reference: recipient.startsWith('kind:')
        ? { display: `any organisation of kind ${recipient.slice(5)}` }
        : { identifier: { system: ODS, value: recipient } },
    })),
    purpose: record.purposes.flatMap((purpose) => {
      const v3 = PURPOSE_OF_USE[purpose];
      return [
        { system: `${LEDGER}/CodeSystem/purpose-of-use`, code: purpose },
        ...(v3 ? [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', ...v3 }] : []),
      ];
    }),
    class: record.dataCategories.map((category) => ({
      system: `${LEDGER}/CodeSystem/data-category`,
      code: category,
    })),
  };
}

function base(
  subjectId: string,
  id: string,
  version: number,
  policy: 'OPTIN' | 'OPTOUT',
  dateTime: string,
) {
  return {
    resourceType: 'Consent' as const,
    id,
    meta: { versionId: String(version) },
    extension: [
      { url: `${LEDGER}/StructureDefinition/source-event-version`, valueInteger: version },
    ],
    scope: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: 'patient-privacy',
          display: 'Privacy Consent',
        },
      ],
    },
    category: [
      { coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] },
    ],
    patient: { identifier: { system: NHS_NUMBER, value: subjectId } },
    dateTime,
    policyRule: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: policy }],
    },
  };
}

/** A consent or refusal as an FHIR R4 Consent: permit for a grant, deny for a refusal. */
export function consentResource(subjectId: string, consent: ConsentRecord, at: Date) {
  const standing = consentStatus(consent, at);
  return {
    ...base(
      subjectId,
      consent.consentId,
      consent.withdrawn?.streamVersion ?? consent.streamVersion,
      consent.decision === 'granted' ? 'OPTIN' : 'OPTOUT',
      consent.recordedAt,
    ),
    status: standing === 'active' || standing === 'not-yet-valid' ? 'active' : 'inactive',
    ...(consent.evidenceRef ? { sourceReference: { display: consent.evidenceRef } } : {}),
    performer: [
      consent.capture.givenBy === 'subject'
        ? { identifier: { system: NHS_NUMBER, value: subjectId } }
        : {
            display:
              consent.capture.proxyName ?? consent.capture.decisionMaker ?? consent.capture.givenBy,
          },
    ],
    provision: provision(consent, consent.decision === 'granted' ? 'permit' : 'deny', {
      start: consent.validFrom,
      ...(consent.validUntil ? { end: consent.validUntil } : {}),
    }),
  };
}

const OBJECTION_STATUS: Record<ObjectionRecord['status'], string> = {
  pending: 'proposed',
  upheld: 'active',
  overruled: 'rejected',
  withdrawn: 'inactive',
};

/** An objection as an FHIR R4 Consent with a deny provision (proposed while it is decided). */
export function objectionResource(subjectId: string, objection: ObjectionRecord) {
  return {
    ...base(
      subjectId,
      objection.objectionId,
      objection.streamVersion,
      'OPTOUT',
      objection.raisedAt,
    ),
    status: OBJECTION_STATUS[objection.status],
    provision: provision(objection, 'deny'),
  };
}

/** A searchset Bundle of every consent, refusal and objection of one person. */
export function consentBundle(state: SubjectState, at: Date) {
  const resources = [
    ...state.consents.map((c) => consentResource(state.subjectId, c, at)),
    ...state.objections.map((o) => objectionResource(state.subjectId, o)),
  ];
  return {
    resourceType: 'Bundle' as const,
    type: 'searchset' as const,
    total: resources.length,
    meta: { lastUpdated: at.toISOString() },
    entry: resources.map((resource) => ({
      fullUrl: `urn:uuid:${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
