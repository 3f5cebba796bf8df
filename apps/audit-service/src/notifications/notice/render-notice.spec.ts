import {
  DATA_CATEGORY_NAMES,
  ROLES,
  STATUTE_CODES,
  type DecisionEventData,
  type Statute,
} from '#common';
import { noticeFactsOf, type NoticeFacts } from './notice-facts';
import { renderNotice, statuteWords, ukDateTime } from './render-notice';

const facts = (over: Partial<NoticeFacts> = {}): NoticeFacts => ({
  at: '2026-03-03T14:05:00Z',
  channel: 'record',
  requesterOrg: 'X26',
  requesterRole: 'safeguarding_lead',
  recipientOrg: 'X26',
  purpose: 'safeguarding',
  categories: ['care-plan'],
  statute: 'care-act-2014-s42',
  ...over,
});
const context = {
  organisationNames: { X26: 'Northshire Council', Y11: 'Westmere NHS Trust' },
  contact: 'the Information Governance team at Northshire Council, 0300 123 4567',
  reference: '6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e',
};

describe('renderNotice', () => {
  it('says who, what, when, why and how to complain, in plain English', () => {
    const { subject, body, shortBody } = renderNotice(facts(), context);
    expect(subject).toBe('Your care record was looked at without your consent');
    expect(body).toContain(
      'On 3 March 2026 at 2:05pm, a safeguarding lead at Northshire Council (X26) looked at your care plan without asking you first.',
    );
    expect(body).toContain(
      'The law allows this to find out whether an adult is at risk of abuse or neglect, and to protect them. The law is the Care Act 2014 section 42 (safeguarding enquiry).',
    );
    expect(body).toContain(
      'Contact the Information Governance team at Northshire Council, 0300 123 4567. Give this reference: 6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e.',
    );
    expect(body).toContain('Information Commissioner’s Office');
    expect(shortBody).toBe(
      'On 3 March 2026, a safeguarding lead at Northshire Council (X26) looked at your care plan without asking you first. ' +
        'The law allows this to find out whether an adult is at risk of abuse or neglect, and to protect them (Care Act 2014 section 42). ' +
        'Questions or complaints: the Information Governance team at Northshire Council, 0300 123 4567. Reference: 6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e.',
    );
  });

  it('reads dates and times in UK time (summer time included)', () => {
    expect(ukDateTime('2026-07-01T23:30:00Z')).toEqual({ date: '2 July 2026', time: '12:30am' });
    expect(ukDateTime('2026-12-31T12:00:00Z')).toEqual({
      date: '31 December 2026',
      time: '12:00pm',
    });
  });

  it('lists several parts, and says "was allowed to" when the gateway only decided', () => {
    const { body } = renderNotice(
      facts({ channel: 'decision', categories: ['care-plan', 'assessments', 'case-notes'] }),
      context,
    );
    expect(body).toContain(
      'was allowed to look at your care plan, your assessments and the notes about your case without asking you first.',
    );
  });

  it('names a receiving organisation that is not the requester’s, and codes it has no name for', () => {
    expect(renderNotice(facts({ recipientOrg: 'Y11' }), context).body).toContain(
      'It was shared with Westmere NHS Trust (Y11).',
    );
    expect(renderNotice(facts({ requesterOrg: 'Z99' }), context).body).toContain(
      'a safeguarding lead at the organisation with code Z99 looked at',
    );
  });

  it('has words for every statute, category and role (no gaps, no "undefined")', () => {
    for (const statute of STATUTE_CODES) {
      const { body } = renderNotice(facts({ statute }), context);
      expect(body).toContain(statuteWords(statute as Statute));
      expect(body).not.toMatch(/undefined|null/);
    }
    for (const category of DATA_CATEGORY_NAMES) {
      expect(renderNotice(facts({ categories: [category] }), context).body).not.toMatch(
        /undefined|null/,
      );
    }
    for (const role of ROLES) {
      expect(renderNotice(facts({ requesterRole: role }), context).body).not.toMatch(
        /undefined|null/,
      );
    }
  });

  it('falls back to the purpose when no statute is known', () => {
    expect(renderNotice(facts({ statute: null, purpose: 'emergency' }), context).body).toContain(
      'This was done because of an emergency, which the law allows in some situations.',
    );
  });

  it('turns STATUTES wording into words', () => {
    expect(statuteWords('children-act-1989-s47')).toBe(
      'Children Act 1989 section 47 (child protection enquiry)',
    );
  });
});

describe('noticeFactsOf', () => {
  const decision: DecisionEventData = {
    decisionId: '0b9f4a0e-8d0c-4c1e-9a57-3c0d5e6f7a8b',
    channel: 'record',
    subjectId: '9434765919',
    requester: { userId: 'lead-1', org: 'X26', roles: ['safeguarding_lead'] },
    caller: null,
    recipientOrg: 'X26',
    purpose: 'safeguarding',
    requested: ['care-plan', 'financial'],
    outcome: 'partial',
    permitted: ['care-plan'],
    denied: [{ category: 'financial', reasons: ['no-agreement'] }],
    legalBasis: {
      article6: null,
      article9: null,
      statutes: ['care-act-2014-s42'],
      agreementIds: [],
      source: 'break-glass',
    },
    obligations: ['audit', 'notify-subject', 'ig-review'],
    needToKnow: 'break-glass',
    breakGlass: { statute: 'care-act-2014-s42', windowClosesAt: '2026-03-04T14:05:00Z' },
    breakGlassWindowId: null,
    consentVersion: 3,
    policyVersion: 'p1',
    decidedAt: '2026-03-03T14:05:00Z',
  };

  it('takes what was released, by whom, and the statute; identifiers and codes only', () => {
    expect(noticeFactsOf(decision, '2026-03-03T14:05:01Z')).toEqual({
      at: '2026-03-03T14:05:00Z',
      channel: 'record',
      requesterOrg: 'X26',
      requesterRole: 'safeguarding_lead',
      recipientOrg: 'X26',
      purpose: 'safeguarding',
      categories: ['care-plan'],
      statute: 'care-act-2014-s42',
    });
  });

  it('is null for a decision that does not oblige telling the person', () => {
    expect(noticeFactsOf({ ...decision, obligations: ['audit'] }, decision.decidedAt)).toBeNull();
  });
});
