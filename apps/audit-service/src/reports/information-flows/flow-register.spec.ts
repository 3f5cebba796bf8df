import { informationFlows, type DisclosureGroup } from './flow-register';

const basis = {
  article6: 'UK-GDPR-6-1-e',
  article9: 'UK-GDPR-9-2-h',
  statutes: [],
  agreementIds: ['a1'],
  source: 'agreement',
};

describe('information flow register', () => {
  it('names the record holder as the sender and each recipient organisation as receiver', () => {
    const groups: DisclosureGroup[] = [
      {
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 2,
      },
      {
        toOrg: 'X26',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 5,
      },
    ];
    expect(informationFlows(groups, 'X26')).toEqual([
      {
        fromOrg: 'X26',
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 2,
      },
      {
        fromOrg: 'X26',
        toOrg: 'X26',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 5,
      },
    ]);
  });

  it('merges groups that differ only in the order of categories or statutes', () => {
    const groups: DisclosureGroup[] = [
      {
        toOrg: 'RYJ',
        purpose: 'safeguarding',
        categories: ['care-plan', 'assessments'],
        legalBasis: { ...basis, statutes: ['care-act-2014-s42', 'children-act-1989-s47'] },
        count: 1,
      },
      {
        toOrg: 'RYJ',
        purpose: 'safeguarding',
        categories: ['assessments', 'care-plan'],
        legalBasis: { ...basis, statutes: ['children-act-1989-s47', 'care-act-2014-s42'] },
        count: 3,
      },
    ];
    const flows = informationFlows(groups, 'X26');
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      categories: ['assessments', 'care-plan'],
      legalBasis: { statutes: ['care-act-2014-s42', 'children-act-1989-s47'] },
      count: 4,
    });
  });

  it('keeps flows on different legal bases, purposes or category sets apart', () => {
    const groups: DisclosureGroup[] = [
      {
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 1,
      },
      {
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan'],
        legalBasis: { ...basis, article6: 'UK-GDPR-6-1-a', agreementIds: ['a2'] },
        count: 1,
      },
      {
        toOrg: 'RYJ',
        purpose: 'safeguarding',
        categories: ['care-plan'],
        legalBasis: basis,
        count: 1,
      },
      {
        toOrg: 'RYJ',
        purpose: 'direct-care',
        categories: ['care-plan', 'contacts'],
        legalBasis: basis,
        count: 1,
      },
    ];
    expect(informationFlows(groups, 'X26')).toHaveLength(4);
  });

  it('tolerates entries without a recipient or a legal basis', () => {
    expect(
      informationFlows(
        [{ toOrg: null, purpose: null, categories: null, legalBasis: null, count: 1 }],
        'X26',
      ),
    ).toEqual([
      {
        fromOrg: 'X26',
        toOrg: 'unknown',
        purpose: null,
        categories: [],
        legalBasis: {
          article6: null,
          article9: null,
          statutes: [],
          agreementIds: [],
          source: null,
        },
        count: 1,
      },
    ]);
  });
});
