/** Disclosures grouped as the log's SQL returns them (one group per distinct raw values). */
export interface DisclosureGroup {
  toOrg: string | null;
  purpose: string | null;
  categories: unknown;
  legalBasis: unknown;
  count: number;
}

/** The legal basis a flow relied on, in a stable shape and order. */
export interface FlowLegalBasis {
  article6: string | null;
  article9: string | null;
  statutes: string[];
  agreementIds: string[];
  /** `agreement`, or `break-glass` when a safeguarding override's statute was the basis. */
  source: string | null;
}

/** One line of the information flow register (IG Toolkit requirement 202). */
export interface InformationFlow {
  fromOrg: string;
  toOrg: string;
  purpose: string | null;
  categories: string[];
  legalBasis: FlowLegalBasis;
  count: number;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? [...new Set(value.filter((v): v is string => typeof v === 'string'))].sort()
    : [];
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function legalBasisOf(value: unknown): FlowLegalBasis {
  const basis = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  return {
    article6: text(basis.article6),
    article9: text(basis.article9),
    statutes: strings(basis.statutes),
    agreementIds: strings(basis.agreementIds),
    source: text(basis.source),
  };
}

/**
 * The register: disclosures from the record holder to each receiving organisation, by purpose,
 * the exact set of categories released and the legal basis relied on, with how many times.
 * Groups that differ only in the order of categories or statutes are one flow.
 */
export function informationFlows(
  groups: readonly DisclosureGroup[],
  fromOrg: string,
): InformationFlow[] {
  const flows = new Map<string, InformationFlow>();
  for (const g of groups) {
    const flow: InformationFlow = {
      fromOrg,
      toOrg: g.toOrg ?? 'unknown',
      purpose: g.purpose,
      categories: strings(g.categories),
      legalBasis: legalBasisOf(g.legalBasis),
      count: g.count,
    };
    const key = JSON.stringify([flow.toOrg, flow.purpose, flow.categories, flow.legalBasis]);
    const seen = flows.get(key);
    if (seen) seen.count += g.count;
    else flows.set(key, flow);
  }
  const order = (f: InformationFlow): string =>
    JSON.stringify([f.toOrg, f.purpose ?? '', f.categories, f.legalBasis]);
  return [...flows.values()].sort((a, b) =>
    order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0,
  );
}
