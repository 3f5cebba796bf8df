// The people, organisations and data sharing agreements every journey plays with. Set up once
// per run through the gateway's reference-data API, as an IG officer would.
import { randomBytes, randomInt } from 'node:crypto';
import { nhsNumbers, type Role } from '#common';
import { must, waitFor, type Body, type JourneyContext } from './journey-client';

export interface Reason {
  code: string;
  message: string;
}

/** A gateway decision as `POST /v1/decisions` answers it. */
export interface Decision {
  decisionId: string;
  outcome: 'permit' | 'partial' | 'deny';
  permitted: string[];
  denied: { category: string; reasons: Reason[] }[];
  legalBasis: { source: string; article6: string | null; statutes: string[] };
  obligations: string[];
  explanation: string;
}

/** An audit log entry as `GET /v1/audit/entries` shows it. */
export interface LogEntry {
  seq: number;
  at: string;
  actor: { userId: string; org: string; role: string } | null;
  subjectId: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  categories: string[];
  details: Record<string, unknown>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Staff whose user records the journeys keep, with their bearer tokens. */
export interface Tokens {
  admin: string;
  ig: string;
  guardian: string;
  worker: string;
  lead: string;
  /** A shared care record (a system), calling on behalf of a GP. */
  sharedCareRecord: string;
  agency: string;
  housing: string;
  /** A social worker whose IG training is nearly three years old. */
  lapsed: string;
  /** A social worker whose account ended yesterday. */
  leaver: string;
}

export const GP = 'gp-demo';

export const AGREEMENTS = {
  directCare: 'Demo: health and adult social care, direct care and secondary uses',
  housing: 'Demo: housing support, with the person’s consent',
} as const;

export class JourneyWorld {
  /** Distinguishes this run's one-off users (access grants outlive a run). */
  readonly run = randomBytes(3).toString('hex');
  readonly tokens: Tokens;
  private readonly people: string[];
  private nextPerson = 0;

  constructor(readonly ctx: JourneyContext) {
    const t = (sub: string, org: string, roles: Role[], name?: string): string =>
      ctx.sign({ sub, org, roles, ...(name ? { name } : {}) });
    this.tokens = {
      admin: t('demo-admin', 'X26', ['admin', 'ig_officer'], 'Demo Administrator'),
      ig: t('ig-demo', 'X26', ['ig_officer'], 'I. G. Officer'),
      guardian: t('cg-demo', 'X26', ['caldicott_guardian'], 'C. Guardian'),
      worker: t('sw-demo', 'X26', ['social_worker'], 'A. Social Worker'),
      lead: t('lead-demo', 'X26', ['safeguarding_lead'], 'S. Lead'),
      sharedCareRecord: t('shared-care-record', 'RX1', ['system']),
      agency: t('agency-demo', 'CARE1', ['practitioner']),
      housing: t('housing-demo', 'HOUSE1', ['practitioner']),
      lapsed: t('lapsed-demo', 'X26', ['social_worker']),
      leaver: t('leaver-demo', 'X26', ['social_worker']),
    };
    // Made-up people, new on each run, so a journey never meets an earlier run's choices.
    this.people = nhsNumbers(40, randomInt(900_000_000, 990_000_000));
  }

  get urls(): JourneyContext['urls'] {
    return this.ctx.urls;
  }

  say(line: string): void {
    this.ctx.narrator.say(`   ${line}`);
  }

  step(title: string): void {
    this.ctx.narrator.step(title);
  }

  /** Signs a token for someone the journeys make up as they go (a person, a locum). */
  token(sub: string, org: string, roles: Role[]): string {
    return this.ctx.sign({ sub, org, roles });
  }

  /** Waits for an asynchronous effect, within the run's time limit. */
  waitFor<T>(what: string, probe: () => Promise<T | null>, intervalMs = 100): Promise<T> {
    return waitFor(what, probe, this.ctx.timeoutMs, intervalMs);
  }

  /** Organisations, users and agreements; safe to run again against the same system. */
  async setUp(): Promise<void> {
    this.step('Reference data an IG officer keeps (every change is itself audited)');
    const { gateway } = this.urls;
    const admin = this.tokens.admin;
    const orgs: [string, string, string][] = [
      ['X26', 'Northshire County Council', 'local-authority'],
      ['RX1', 'Northshire NHS Foundation Trust', 'nhs-trust'],
      ['CARE1', 'Helping Hands Care Agency', 'care-provider'],
      ['HOUSE1', 'Northshire Homes', 'housing'],
    ];
    for (const [ods, name, kind] of orgs) {
      await must('PUT', `${gateway}/v1/organisations/${ods}`, admin, { name, kind, country: 'GB' });
    }
    const today = isoDate(Date.now());
    const users: [string, string, Role[], string, string?][] = [
      ['sw-demo', 'X26', ['social_worker'], today],
      ['lead-demo', 'X26', ['safeguarding_lead'], today],
      [GP, 'RX1', ['practitioner'], today],
      ['agency-demo', 'CARE1', ['practitioner'], today],
      ['housing-demo', 'HOUSE1', ['practitioner'], today],
      ['lapsed-demo', 'X26', ['social_worker'], '2024-01-15'],
      ['leaver-demo', 'X26', ['social_worker'], today, isoDate(Date.now() - DAY_MS)],
    ];
    for (const [userId, org, roles, trained, endsOn] of users) {
      await this.putUser(userId, org, roles, trained, endsOn);
    }
    const existing = await must<{ agreements: { title: string }[] }>(
      'GET',
      `${gateway}/v1/agreements?limit=500`,
      admin,
    );
    const agreements = [
      {
        title: AGREEMENTS.directCare,
        parties: ['kind:local-authority', 'kind:nhs-trust'],
        roles: ['social_worker', 'practitioner', 'safeguarding_lead'],
        purposes: ['direct-care', 'research', 'service-planning'],
        dataCategories: ['demographics', 'care-plan', 'assessments'],
        legalBasis: {
          article6: 'UK-GDPR-6-1-e',
          article9: 'UK-GDPR-9-2-h',
          statutes: ['hsc-sqa-2015-s251b'],
        },
      },
      {
        title: AGREEMENTS.housing,
        parties: ['HOUSE1'],
        roles: ['practitioner'],
        purposes: ['direct-care'],
        dataCategories: ['care-plan'],
        legalBasis: { article6: 'UK-GDPR-6-1-a', statutes: [] },
      },
    ];
    for (const agreement of agreements) {
      if (existing.agreements.some((a) => a.title === agreement.title)) continue;
      await must('POST', `${gateway}/v1/agreements`, admin, {
        ...agreement,
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        status: 'active',
      });
    }
    this.say(
      `${orgs.length} organisations, ${users.length} users, ${agreements.length} data sharing agreements`,
    );
  }

  async putUser(
    userId: string,
    org: string,
    roles: Role[],
    igTrainingCompletedOn: string,
    accountEndsOn?: string,
  ): Promise<void> {
    await must('PUT', `${this.urls.gateway}/v1/users/${userId}`, this.tokens.admin, {
      org,
      roles,
      teams: [],
      igTrainingCompletedOn,
      ...(accountEndsOn ? { accountEndsOn } : {}),
    });
  }

  /**
   * A new made-up person, known to the staff who look after them (a care relationship each):
   * the social worker, the GP, the care agency, housing and the two whose access has lapsed.
   */
  async newPerson(): Promise<string> {
    const person = this.people[this.nextPerson++];
    if (!person) throw new Error('the journeys ran out of made-up NHS numbers');
    const carers = ['sw-demo', GP, 'agency-demo', 'housing-demo', 'lapsed-demo', 'leaver-demo'];
    for (const userId of carers) {
      await must('POST', `${this.urls.gateway}/v1/relationships`, this.tokens.admin, {
        userId,
        subjectId: person,
        type: 'allocated-worker',
        validFrom: '2026-01-01T00:00:00Z',
      });
    }
    return person;
  }

  /** A token for the person themselves (the NHS number is the subject). */
  personToken(person: string): string {
    return this.token(person, 'X26', ['service_user']);
  }

  request(person: string, categories: string[], purposeOfUse = 'direct-care', extra: Body = {}) {
    return { subjectId: person, purposeOfUse, dataCategories: categories, ...extra };
  }

  decide(bearer: string, body: Body): Promise<Decision> {
    return must<Decision>('POST', `${this.urls.gateway}/v1/decisions`, bearer, body);
  }

  /**
   * Asks until the answer is the one expected: the gateway's copy of consent state trails the
   * consent service by moments. Returns the first such decision and when it arrived.
   */
  async decideUntil(
    what: string,
    bearer: string,
    body: Body,
    expected: (d: Decision) => boolean,
    intervalMs = 50,
  ): Promise<{ decision: Decision; receivedAt: number }> {
    return this.waitFor(
      what,
      async () => {
        const decision = await this.decide(bearer, body);
        return expected(decision) ? { decision, receivedAt: Date.now() } : null;
      },
      intervalMs,
    );
  }

  /** Log entries about a person, as an IG officer reads them. */
  async logEntries(person: string, action?: string): Promise<LogEntry[]> {
    const query = `subjectId=${person}&limit=1000${action ? `&action=${action}` : ''}`;
    const page = await must<{ entries: LogEntry[] }>(
      'GET',
      `${this.urls.audit}/v1/audit/entries?${query}`,
      this.tokens.ig,
    );
    return page.entries;
  }

  tell(who: string, decision: Decision): void {
    this.say(`${who}: ${decision.outcome.toUpperCase()}`);
    if (decision.permitted.length > 0) this.say(`  permitted: ${decision.permitted.join(', ')}`);
    for (const d of decision.denied) {
      this.say(
        `  denied ${d.category}: ${d.reasons.map((r) => `${r.code} (${r.message})`).join('; ')}`,
      );
    }
  }
}

/** The codes a decision gave for denying one category (empty when it was not denied). */
export function reasonCodes(decision: Decision, category: string): string[] {
  return decision.denied.find((d) => d.category === category)?.reasons.map((r) => r.code) ?? [];
}

export const days = (n: number): number => n * DAY_MS;
