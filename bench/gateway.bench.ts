import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  createServiceDataSource,
  ensureLocalKeyPair,
  nhsNumbers,
  signLocalToken,
  type Article6Basis,
  type Article9Condition,
  type DataCategory,
  type OrganisationKind,
  type PublishedConsentEvent,
  type Purpose,
  type Role,
  type Statute,
} from '#common';
import {
  replayReplica,
  type ReplicaEvent,
} from '../apps/sharing-gateway/src/consent-replica/replica-state';
import {
  AGREEMENT_JSON,
  agreementFacts,
  DecisionFactsRepository,
  LIVE_FACTS,
  askRow,
  type AgreementBody,
} from '../apps/sharing-gateway/src/decisions/decision-facts.repository';
import type { StoredFacts } from '../apps/sharing-gateway/src/decisions/decision.service';
import { DEFAULT_POLICY_CONFIG, evaluate } from '../apps/sharing-gateway/src/policy/evaluate';
import type {
  Decision,
  DecisionFacts,
  DecisionRequest,
} from '../apps/sharing-gateway/src/policy/policy.types';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { runLoad, type LoadRequest, type LoadResult } from './http-load';
import { printTopStatements, resetStatements } from './pg-statements';
import { postgresCpu, procStat } from './process-cpu';

const USERS = 1000;
const TEAMS = 50;
const AGREEMENTS = 50;
const RELATIONSHIPS = 100_000;
const PEOPLE = 25_000;
/** People with consent events in the replica (the rest have none: consent-based shares deny). */
const PEOPLE_WITH_CONSENT_EVENTS = 8_000;
const ACCESS_GRANTS = 150;
const CONCURRENCY = 64;
const WARM_UP_REQUESTS = 2_000;
const MEASURED_REQUESTS = 20_000;
/** Share of requests for a person the requester has no relationship with (expected denials). */
const UNRELATED_SHARE = 0.1;
/** The gateway's pool, as the consent bench gives the consent service. */
const GATEWAY_POOL_SIZE = 20;
const FACT_SAMPLES = 1_000;
const EVALUATE_WARM_UP = 20_000;
const EVALUATIONS = 200_000;
const EVALUATE_BATCH = 1_000;
const FACT_QUERIES_SEQUENTIAL = 1_000;
const FACT_QUERIES_CONCURRENT = 10_000;
const FACT_QUERIES_EXPLAINED = 200;
const EXPLAINED_BATCH = 16;
const COMMITS = 300;

const TARGET_RATIO = 0.3;
const TARGET_P99_MS = 50;
const TARGET_EVALUATE_P50_US = 10;
const TARGET_EVALUATE_P99_US = 50;

const DAY_MS = 86_400_000;

/**
 * Audited decisions of the sharing gateway (a real process on embedded PostgreSQL with realistic
 * reference data: 1,000 users, 50 agreements, 100,000 relationships) at 64 concurrent clients,
 * against a bare node:http JSON echo hit by the same load client with the same requests; and the
 * in-process cost of the pure `evaluate` on the facts the gateway actually stored.
 *
 * Set BENCH_GATEWAY_CPU_PROF=<dir> to write a V8 CPU profile of the gateway process to <dir>.
 */
export async function runGatewayBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const children: ChildProcess[] = [];
  try {
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE gateway_bench');
    await admin.end();
    const url = pg.url('gateway_bench');
    // The gateway consumes the consent service's outbox: both schemas live in one database.
    await runScript('consent-service', 'migrate.js', { DATABASE_URL: url });
    await runScript('sharing-gateway', 'migrate.js', { DATABASE_URL: url });

    const db = new Client({ connectionString: url });
    // After a failure PostgreSQL stops under this connection: the failure is what to report.
    db.on('error', () => undefined);
    await db.connect();
    const data = generateReferenceData(Date.now());
    const seedStarted = process.hrtime.bigint();
    await seed(db, data);
    const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;
    const [{ synchronous_commit: syncCommit }]: { synchronous_commit: string }[] = (
      await db.query('SHOW synchronous_commit')
    ).rows;
    const [{ fsync }]: { fsync: string }[] = (await db.query('SHOW fsync')).rows;
    // The gateway's sessions inherit the server's setting unless a database or role overrides it.
    const [{ overrides }]: { overrides: number }[] = (
      await db.query(
        `SELECT count(*)::int AS overrides FROM pg_db_role_setting
          WHERE array_to_string(setconfig, ',') ~ '(synchronous_commit|fsync)='`,
      )
    ).rows;
    process.stdout.write(
      `seeded ${data.organisations.length} organisations, ${data.users.length} users, ` +
        `${data.agreements.length} agreements, ${data.relationships.length.toLocaleString('en-GB')} relationships, ` +
        `${data.grants.length} access grants, consent events for ${data.replica.length.toLocaleString('en-GB')} of ` +
        `${PEOPLE.toLocaleString('en-GB')} people, with history, in ${seedSeconds.toFixed(1)} s\n` +
        `synchronous_commit = ${syncCommit}, fsync = ${fsync}, ` +
        `${overrides} database or role overrides of either\n`,
    );
    if (syncCommit !== 'on' || fsync !== 'on' || overrides > 0) {
      throw new Error('decisions would not be durable: synchronous_commit and fsync must be on');
    }

    const keys = ensureLocalKeyPair(dir);
    const tokens = new Map(
      data.users.map((u) => [
        u.userId,
        signLocalToken(keys, {
          sub: u.userId,
          org: u.org,
          roles: u.roles,
          teams: u.teams,
          expiresIn: '1h',
        }),
      ]),
    );
    const requests = decisionRequests(data, tokens, WARM_UP_REQUESTS + MEASURED_REQUESTS);
    const warmUp = requests.slice(0, WARM_UP_REQUESTS);
    const measured = requests.slice(WARM_UP_REQUESTS);

    // The baseline with the same client, requests and headers: before the gateway starts and
    // again after it stops, so drift on a shared machine shows in both sides alike.
    const echoBefore = await echoRun(warmUp, measured, children);
    const port = await freePort();
    const gateway = await startGateway(url, port, dir);
    children.push(gateway);
    await waitForReplica(db);
    const warmed = await runLoad(port, warmUp, CONCURRENCY, 200);
    await waitForReplica(db);
    await resetStatements(db);
    const stopCpu = measureCpu(gateway.pid, join(dir, 'data'));
    const decisions = await runLoad(port, measured, CONCURRENCY, 200);
    const cpu = stopCpu();
    const batching = await batchSizes(port);
    await printTopStatements(db, MEASURED_REQUESTS, 'decision');
    await stopChild(gateway);
    for (const run of [warmed, decisions]) {
      if (run.failures > 0) {
        throw new Error(`${run.failures} decisions failed, first: ${run.firstFailure}`);
      }
    }

    const echoAfter = await echoRun(warmUp, measured, children);
    const baseline = {
      perSecond: (echoBefore.perSecond + echoAfter.perSecond) / 2,
      latenciesMs: Float64Array.from([...echoBefore.latenciesMs, ...echoAfter.latenciesMs]),
    };
    const ratio = decisions.perSecond / baseline.perSecond;
    const base = summary(baseline);
    const dec = summary(decisions);
    process.stdout.write(
      `${`baseline: bare node:http JSON echo (${CONCURRENCY} in flight)`.padEnd(52)} ${rate(baseline.perSecond)} req/s   ratio 1.00   p50 ${ms(base.p50)}  p99 ${ms(base.p99)}   (before ${Math.round(echoBefore.perSecond)}, after ${Math.round(echoAfter.perSecond)})\n` +
        `${`audited decisions (${CONCURRENCY} in flight)`.padEnd(52)} ${rate(decisions.perSecond)} dec/s   ratio ${ratio.toFixed(2)}   p50 ${ms(dec.p50)}  p99 ${ms(dec.p99)}\n`,
    );

    // Audit: every decision answered 200 is stored with its event, and nothing else is.
    const answered = (warmed.statuses.get(200) ?? 0) + (decisions.statuses.get(200) ?? 0);
    const [stored]: {
      decisions: string;
      events: string;
      body_bytes: string;
      event_bytes: string;
    }[] = (
      await db.query(
        `SELECT (SELECT count(*) FROM gateway.decisions) AS decisions,
                (SELECT count(*) FROM gateway.outbox WHERE type = 'gateway.decision.v1') AS events,
                (SELECT avg(octet_length(body::text)) FROM gateway.decisions) AS body_bytes,
                (SELECT avg(octet_length(envelope::text)) FROM gateway.outbox
                  WHERE type = 'gateway.decision.v1') AS event_bytes`,
      )
    ).rows;
    const durable = Number(stored.decisions) === answered && Number(stored.events) === answered;
    process.stdout.write(
      `audit: ${answered.toLocaleString('en-GB')} decisions answered 200, ` +
        `${Number(stored.decisions).toLocaleString('en-GB')} rows in gateway.decisions, ` +
        `${Number(stored.events).toLocaleString('en-GB')} gateway.decision.v1 events in gateway.outbox: ` +
        `${durable ? 'all stored' : 'MISMATCH'} ` +
        `(per decision: stored body ${kb(stored.body_bytes)}, event ${kb(stored.event_bytes)})\n`,
    );
    if (cpu) {
      const per = (key: keyof CpuUse) => `${((cpu[key] * 1000) / MEASURED_REQUESTS).toFixed(2)} ms`;
      const cores = (key: keyof CpuUse) => (cpu[key] / cpu.wall).toFixed(2);
      process.stdout.write(
        `CPU per decision while measuring: gateway ${per('gateway')} (${cores('gateway')} cores), ` +
          `PostgreSQL ${per('postgres')} (${cores('postgres')} cores), ` +
          `load client ${per('client')} (${cores('client')} cores)\n` +
          ceiling(cpu, baseline.perSecond),
      );
    }
    process.stdout.write(
      `batching (gateway metrics, warm-up included): facts of ${batching.facts.toFixed(1)} decisions read per statement, ` +
        `${batching.commits.toFixed(1)} decisions per group commit\n`,
    );
    process.stdout.write(`${await outcomeMix(db)}\n`);
    if (!durable) throw new Error('stored decisions do not match the decisions answered');

    const evaluated = await benchEvaluate(db);
    process.stdout.write(
      `${'evaluate() in process'.padEnd(52)} p50 ${us(evaluated.p50)}  p99 ${us(evaluated.p99)}   ` +
        `(batch mean ${us(evaluated.batchMean)}, timer overhead ${us(evaluated.timerOverhead)} included; ` +
        `on ${evaluated.samples} stored decisions' facts, ${evaluated.agreements.toFixed(1)} agreements each on average, ` +
        `reproducing ${evaluated.matching} of them)\n`,
    );

    const costs = await databaseCosts(url, db, join(dir, 'data'), requests);
    const postgresPerDecision = cpu ? (cpu.postgres * 1000) / MEASURED_REQUESTS : null;
    process.stdout.write(
      `where the time goes (gateway stopped, same data and requests):\n` +
        `${'  facts query, 1 client in sequence'.padEnd(52)} p50 ${ms(costs.sequential.p50)}  p99 ${ms(costs.sequential.p99)}\n` +
        `${`  facts per decision in PostgreSQL, batches of ${EXPLAINED_BATCH}`.padEnd(52)} planning ${costs.planningMs.toFixed(2)} ms, execution ${costs.executionMs.toFixed(2)} ms\n` +
        `${`  facts reads alone, ${CONCURRENCY} in flight, batched`.padEnd(52)} ${rate(costs.concurrentRate)} reads/s` +
        (costs.postgresCpuMs !== null && postgresPerDecision !== null
          ? `   PostgreSQL CPU ${costs.postgresCpuMs.toFixed(2)} ms/read ` +
            `(of ${postgresPerDecision.toFixed(2)} ms/decision; the rest is storing it)\n`
          : '\n') +
        `${'  one durable single-row commit, 1 client'.padEnd(52)} p50 ${ms(costs.commit.p50)}  p99 ${ms(costs.commit.p99)}\n`,
    );
    await db.end();

    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    process.stdout.write(
      `targets: decisions/s >= ${TARGET_RATIO} x echo ${met(ratio >= TARGET_RATIO)}; ` +
        `p99 <= ${TARGET_P99_MS} ms ${met(dec.p99 <= TARGET_P99_MS)}; ` +
        `durable ${met(durable)}; ` +
        `evaluate p50 <= ${TARGET_EVALUATE_P50_US} µs ${met(evaluated.p50 <= TARGET_EVALUATE_P50_US)}, ` +
        `p99 <= ${TARGET_EVALUATE_P99_US} µs ${met(evaluated.p99 <= TARGET_EVALUATE_P99_US)}\n`,
    );
  } finally {
    for (const child of children) await stopChild(child);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Reference data

interface Organisation {
  odsCode: string;
  name: string;
  kind: OrganisationKind;
  country: string;
}

/** The body of a user record, as PUT /v1/users stores it in reference_history. */
interface User {
  userId: string;
  org: string;
  roles: Role[];
  teams: string[];
  igTrainingCompletedOn: string;
  accountEndsOn: string | null;
}

/** The body of an agreement, as POST /v1/agreements stores it in reference_history. */
interface Agreement {
  agreementId: string;
  title: string;
  parties: string[];
  roles: Role[];
  purposes: Purpose[];
  dataCategories: DataCategory[];
  legalBasis: { article6: Article6Basis; article9?: Article9Condition; statutes: Statute[] };
  validFrom: string;
  /** '' for none, as the agreements controller writes it. */
  validUntil: string;
  status: 'draft' | 'active' | 'suspended';
  internationalTransferSafeguards?: string;
}

interface Relationship {
  relationshipId: string;
  userId: string | null;
  teamId: string | null;
  subjectId: string;
  type: string;
  validFrom: string;
  validUntil: string | null;
  endedAt: string | null;
}

interface Grant {
  grantId: string;
  userId: string;
  purpose: Purpose;
  validUntil: string;
  approvedBy: string;
  recertifiedAt: string;
}

interface ReferenceData {
  organisations: Organisation[];
  users: User[];
  teamMembers: Map<string, User[]>;
  agreements: Agreement[];
  relationships: Relationship[];
  grants: Grant[];
  people: string[];
  replica: { subjectId: string; events: (ReplicaEvent & { eventId: string })[] }[];
}

const ORGANISATIONS: Organisation[] = [
  { odsCode: 'X26', name: 'Northshire Council', kind: 'local-authority', country: 'GB' },
  { odsCode: 'X27', name: 'Southshire Council', kind: 'local-authority', country: 'GB' },
  { odsCode: 'RX1', name: 'Northshire NHS Trust', kind: 'nhs-trust', country: 'GB' },
  { odsCode: 'RX2', name: 'Shires Mental Health NHS Trust', kind: 'nhs-trust', country: 'GB' },
  { odsCode: 'B82001', name: 'Riverside Medical Practice', kind: 'gp-practice', country: 'GB' },
  { odsCode: 'CP101', name: 'Northshire Homecare', kind: 'care-provider', country: 'GB' },
  { odsCode: 'HS1', name: 'Northshire Homes', kind: 'housing', country: 'GB' },
  { odsCode: 'PN1', name: 'Northshire Police', kind: 'police', country: 'GB' },
  { odsCode: 'VS1', name: 'Carers Together', kind: 'voluntary-sector', country: 'GB' },
  // Outside the UK: shares to it need recorded transfer safeguards (UK GDPR Chapter V).
  { odsCode: 'EU1', name: 'Dublin Care Analytics', kind: 'care-provider', country: 'IE' },
];

/** Who works where: users, teams and the mix of their roles (weights sum to 1). */
const STAFFING: { org: string; users: number; teams: number; roles: [Role[], number][] }[] = [
  {
    org: 'X26',
    users: 300,
    teams: 12,
    roles: [
      [['social_worker'], 0.8],
      [['social_worker', 'safeguarding_lead'], 0.08],
      [['practitioner'], 0.08],
      [['caldicott_guardian'], 0.02],
      [['ig_officer'], 0.02],
    ],
  },
  {
    org: 'X27',
    users: 200,
    teams: 8,
    roles: [
      [['social_worker'], 0.82],
      [['safeguarding_lead'], 0.06],
      [['practitioner'], 0.1],
      [['ig_officer'], 0.02],
    ],
  },
  {
    org: 'RX1',
    users: 180,
    teams: 8,
    roles: [
      [['practitioner'], 0.9],
      [['practitioner', 'safeguarding_lead'], 0.05],
      [['social_worker'], 0.04],
      [['caldicott_guardian'], 0.01],
    ],
  },
  {
    org: 'RX2',
    users: 120,
    teams: 6,
    roles: [
      [['practitioner'], 0.9],
      [['social_worker'], 0.1],
    ],
  },
  { org: 'B82001', users: 50, teams: 3, roles: [[['practitioner'], 1]] },
  { org: 'CP101', users: 80, teams: 5, roles: [[['practitioner'], 1]] },
  { org: 'HS1', users: 20, teams: 2, roles: [[['practitioner'], 1]] },
  { org: 'PN1', users: 20, teams: 2, roles: [[['practitioner'], 1]] },
  { org: 'VS1', users: 20, teams: 2, roles: [[['practitioner'], 1]] },
  { org: 'EU1', users: 10, teams: 2, roles: [[['practitioner'], 1]] },
];

type AgreementTemplate = Pick<
  Agreement,
  'title' | 'parties' | 'roles' | 'purposes' | 'dataCategories' | 'legalBasis'
> & { internationalTransferSafeguards?: string };

const PUBLIC_TASK = {
  article6: 'UK-GDPR-6-1-e',
  article9: 'UK-GDPR-9-2-h',
  statutes: ['hsc-sqa-2015-s251b'],
} as const satisfies Agreement['legalBasis'];
const CONSENT = {
  article6: 'UK-GDPR-6-1-a',
  article9: 'UK-GDPR-9-2-a',
  statutes: [],
} as const satisfies Agreement['legalBasis'];

/** Shapes of real agreements; the 50 are variations of these (parties, status, validity). */
const AGREEMENT_TEMPLATES: AgreementTemplate[] = [
  {
    title: 'Direct care across health and social care',
    parties: ['kind:local-authority', 'kind:nhs-trust'],
    roles: ['social_worker', 'practitioner', 'safeguarding_lead'],
    purposes: ['direct-care', 'emergency'],
    dataCategories: ['demographics', 'contacts', 'care-plan', 'assessments', 'medications'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
  {
    title: 'Integrated care with general practice',
    parties: ['kind:gp-practice', 'kind:local-authority', 'kind:nhs-trust'],
    roles: ['social_worker', 'practitioner'],
    purposes: ['direct-care'],
    dataCategories: ['demographics', 'care-plan', 'medications', 'case-notes'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
  {
    title: 'Community mental health',
    parties: ['RX2', 'X26', 'X27'],
    roles: ['social_worker', 'practitioner'],
    purposes: ['direct-care'],
    dataCategories: ['mental-health', 'care-plan', 'assessments', 'substance-misuse'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
  {
    title: 'Multi-agency safeguarding hub',
    parties: ['kind:local-authority', 'kind:police', 'kind:nhs-trust'],
    roles: ['social_worker', 'safeguarding_lead', 'practitioner'],
    purposes: ['safeguarding'],
    dataCategories: [
      'safeguarding',
      'case-notes',
      'third-party-information',
      'criminal-justice',
      'demographics',
    ],
    legalBasis: {
      article6: 'UK-GDPR-6-1-e',
      article9: 'UK-GDPR-9-2-g',
      statutes: ['care-act-2014-s42', 'children-act-1989-s47'],
    },
  },
  {
    title: 'Home care packages (consent)',
    parties: ['kind:care-provider', 'kind:local-authority'],
    roles: ['practitioner', 'social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan', 'contacts', 'medications', 'demographics'],
    legalBasis: { ...CONSENT, statutes: [] },
  },
  {
    title: 'Housing support (consent)',
    parties: ['kind:housing', 'kind:local-authority'],
    roles: ['practitioner', 'social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['contacts', 'demographics', 'financial'],
    legalBasis: { ...CONSENT, statutes: [] },
  },
  {
    title: 'Carers support (consent)',
    parties: ['kind:voluntary-sector', 'X26'],
    roles: ['practitioner', 'social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['contacts', 'demographics', 'care-plan'],
    legalBasis: { ...CONSENT, statutes: [] },
  },
  {
    title: 'Care quality audit',
    parties: ['kind:local-authority', 'kind:nhs-trust'],
    roles: ['caldicott_guardian', 'safeguarding_lead', 'practitioner', 'social_worker'],
    purposes: ['care-quality-audit'],
    dataCategories: ['care-plan', 'assessments', 'case-notes'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
  {
    title: 'Service planning extract',
    parties: ['X26', 'X27', 'RX1'],
    roles: ['practitioner', 'social_worker', 'caldicott_guardian'],
    purposes: ['service-planning'],
    dataCategories: ['demographics', 'assessments'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
  {
    title: 'Outcomes research (consent, transfer safeguards)',
    parties: ['EU1', 'RX1'],
    roles: ['practitioner'],
    purposes: ['research'],
    dataCategories: ['demographics', 'assessments', 'care-plan'],
    legalBasis: { ...CONSENT, statutes: [] },
    internationalTransferSafeguards: 'UK International Data Transfer Agreement, 2026-03',
  },
  {
    title: 'Cross-border home care (no safeguards recorded)',
    parties: ['EU1', 'X26'],
    roles: ['practitioner', 'social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan', 'contacts'],
    legalBasis: { ...PUBLIC_TASK, statutes: [...PUBLIC_TASK.statutes] },
  },
];

const SENSITIVE: DataCategory[] = [
  'safeguarding',
  'mental-health',
  'substance-misuse',
  'third-party-information',
  'criminal-justice',
  'sexual-health',
];
/** Purposes, weighted as asked for: mostly direct care. */
const PURPOSE_MIX: [Purpose, number][] = [
  ['direct-care', 0.78],
  ['safeguarding', 0.1],
  ['care-quality-audit', 0.04],
  ['service-planning', 0.03],
  ['research', 0.02],
  ['emergency', 0.03],
];

/** Ordinary categories, weighted as asked for: mostly what care agreements cover. */
const ORDINARY: [DataCategory, number][] = [
  ['care-plan', 0.25],
  ['demographics', 0.2],
  ['assessments', 0.2],
  ['contacts', 0.12],
  ['medications', 0.1],
  ['case-notes', 0.08],
  ['financial', 0.05],
];

/** A small deterministic generator, so every run seeds the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateReferenceData(now: number): ReferenceData {
  const rand = random(20261124);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
  const weighted = <T>(choices: [T, number][]): T => {
    let r = rand();
    for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
    return choices[choices.length - 1][0];
  };
  const instant = (offsetDays: number) => new Date(now + offsetDays * DAY_MS).toISOString();
  const date = (offsetDays: number) => instant(offsetDays).slice(0, 10);

  const users: User[] = [];
  const teamMembers = new Map<string, User[]>();
  for (const staffing of STAFFING) {
    const teams = Array.from({ length: staffing.teams }, (_, i) => `${staffing.org}-team-${i + 1}`);
    for (let i = 0; i < staffing.users; i++) {
      const userTeams = [teams[i % teams.length]];
      if (rand() < 0.2 && teams.length > 1) userTeams.push(teams[(i + 1) % teams.length]);
      // A few accounts ended last month (denied: requester-inactive), some end later.
      const ends = rand();
      const user: User = {
        userId: `${staffing.org.toLowerCase()}-${String(i + 1).padStart(4, '0')}`,
        org: staffing.org,
        roles: [...weighted(staffing.roles)],
        teams: userTeams,
        // Mostly trained within the year; a few lapsed (denied: training-expired).
        igTrainingCompletedOn: rand() < 0.96 ? date(-rand() * 330) : date(-400 - rand() * 200),
        accountEndsOn: ends < 0.01 ? date(-30) : ends < 0.06 ? date(90 + rand() * 300) : null,
      };
      users.push(user);
      for (const team of userTeams) teamMembers.set(team, [...(teamMembers.get(team) ?? []), user]);
    }
  }
  const teams = [...teamMembers.keys()];
  if (users.length !== USERS || teams.length !== TEAMS) {
    throw new Error(`staffing gives ${users.length} users in ${teams.length} teams`);
  }

  const agreements: Agreement[] = Array.from({ length: AGREEMENTS }, (_, i) => {
    const template = AGREEMENT_TEMPLATES[i % AGREEMENT_TEMPLATES.length];
    const round = Math.floor(i / AGREEMENT_TEMPLATES.length);
    // Later rounds name organisations rather than kinds, and drift in what they cover.
    const parties =
      round % 2 === 1
        ? template.parties.map((p) =>
            p.startsWith('kind:')
              ? (ORGANISATIONS.find((o) => `kind:${o.kind}` === p)?.odsCode ?? p)
              : p,
          )
        : template.parties;
    const dataCategories =
      round >= 2 ? template.dataCategories.slice(0, -1) : template.dataCategories;
    const status: Agreement['status'] =
      i % 12 === 7 ? 'draft' : i % 12 === 10 ? 'suspended' : 'active';
    const expired = i % 9 === 8;
    return {
      agreementId: randomUUID(),
      title: `${template.title} (${round + 1})`,
      parties: [...parties],
      roles: [...template.roles],
      purposes: [...template.purposes],
      dataCategories: [...dataCategories],
      legalBasis: template.legalBasis,
      validFrom: instant(-600 + round * 30),
      validUntil: expired ? instant(-20) : round === 3 ? '' : instant(900),
      status,
      ...(template.internationalTransferSafeguards
        ? { internationalTransferSafeguards: template.internationalTransferSafeguards }
        : {}),
    };
  });

  const people = nhsNumbers(PEOPLE, 943000000);
  // Council, NHS, GP and care staff hold most of the caseload; police, housing and the
  // voluntary sector some.
  const caseholders = users.flatMap((u) =>
    ['HS1', 'PN1', 'VS1', 'EU1'].includes(u.org) ? [u] : [u, u, u],
  );
  const relationships: Relationship[] = Array.from({ length: RELATIONSHIPS }, () => {
    const byTeam = rand() < 0.2;
    const validFrom = instant(-30 - rand() * 900);
    const r = rand();
    // 5% lapsed (denied: no-legitimate-relationship), 10% end later, 2% ended by an editor.
    const validUntil =
      r < 0.05 ? instant(-1 - rand() * 25) : r < 0.15 ? instant(rand() * 365) : null;
    const endedAt = r >= 0.15 && r < 0.17 ? instant(-rand() * 20) : null;
    return {
      relationshipId: randomUUID(),
      userId: byTeam ? null : pick(caseholders).userId,
      teamId: byTeam ? pick(teams) : null,
      subjectId: pick(people),
      type: byTeam ? 'care-team' : pick(['allocated-worker', 'key-worker', 'care-coordinator']),
      validFrom,
      validUntil: endedAt ?? validUntil,
      endedAt,
    };
  });

  const grantees = users.filter((u) => u.roles.includes('safeguarding_lead'));
  const grants: Grant[] = Array.from({ length: ACCESS_GRANTS }, () => ({
    grantId: randomUUID(),
    userId: pick(grantees).userId,
    purpose: 'safeguarding',
    validUntil: instant(1 + rand() * 60),
    approvedBy: 'caldicott-1',
    recertifiedAt: instant(-rand() * 30),
  }));

  const replica = people.slice(0, PEOPLE_WITH_CONSENT_EVENTS).map((subjectId) => {
    let at = now - (400 + rand() * 300) * DAY_MS;
    const events: (ReplicaEvent & { eventId: string })[] = [];
    const add = (event: PublishedConsentEvent) => {
      at += rand() * 30 * DAY_MS;
      events.push({
        ...event,
        eventId: randomUUID(),
        streamVersion: events.length + 1,
        occurredAt: new Date(at).toISOString(),
      });
    };
    const consentId = randomUUID();
    const recipients = ['kind:care-provider', 'kind:local-authority'];
    if (rand() < 0.5) recipients.push('kind:housing');
    if (rand() < 0.4) recipients.push('kind:voluntary-sector');
    const categories: DataCategory[] = ['care-plan', 'contacts', 'medications', 'demographics'];
    if (rand() < 0.3) categories.push('financial');
    if (rand() < 0.2) categories.push('mental-health');
    const recorded = {
      purposes: (rand() < 0.2 ? ['direct-care', 'research'] : ['direct-care']) as Purpose[],
      recipients,
      dataCategories: categories,
      validFrom: new Date(at).toISOString(),
      validUntil: rand() < 0.1 ? instant(-rand() * 60) : null,
      capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
      evidenceRef: null,
    };
    add({ type: 'consent.granted.v1', data: { consentId, ...recorded } });
    if (rand() < 0.08) add({ type: 'consent.withdrawn.v1', data: { consentId } });
    if (rand() < 0.05) {
      add({
        type: 'consent.refused.v1',
        data: {
          ...recorded,
          consentId: randomUUID(),
          recipients: ['kind:housing'],
          dataCategories: ['financial'],
        },
      });
    }
    if (rand() < 0.05) {
      const objectionId = randomUUID();
      add({
        type: 'objection.raised.v1',
        data: {
          objectionId,
          purposes: ['direct-care'],
          recipients: ['kind:voluntary-sector'],
          dataCategories: ['contacts'],
        },
      });
      const r = rand();
      if (r < 0.5) add({ type: 'objection.decided.v1', data: { objectionId, outcome: 'upheld' } });
      else if (r < 0.75) {
        add({ type: 'objection.decided.v1', data: { objectionId, outcome: 'overruled' } });
      }
    }
    if (rand() < 0.03) add({ type: 'national-opt-out.set.v1', data: {} });
    if (rand() < 0.3) add({ type: 'contact-preferences.set.v1', data: { channel: 'letter' } });
    return { subjectId, events };
  });

  return {
    organisations: ORGANISATIONS,
    users,
    teamMembers,
    agreements,
    relationships,
    grants,
    people,
    replica,
  };
}

const ISO = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Current rows and reference_history in one transaction, in bulk. History bodies have the shapes
 * the reference controllers write (replay reads them); the outbox events those controllers also
 * write are left out: they feed the audit service, and no decision reads them.
 */
async function seed(db: Client, data: ReferenceData): Promise<void> {
  await db.query('BEGIN');
  await db.query(
    `INSERT INTO gateway.organisations (ods_code, name, kind, country, version, updated_at)
     SELECT o->>'odsCode', o->>'name', o->>'kind', o->>'country', 1, now()
       FROM jsonb_array_elements($1::jsonb) o`,
    [JSON.stringify(data.organisations)],
  );
  await db.query(
    `INSERT INTO gateway.users
       (user_id, org, roles, teams, ig_training_completed_on, account_ends_on, version, updated_at)
     SELECT u->>'userId', u->>'org', ARRAY(SELECT jsonb_array_elements_text(u->'roles')),
            ARRAY(SELECT jsonb_array_elements_text(u->'teams')),
            (u->>'igTrainingCompletedOn')::date, (u->>'accountEndsOn')::date, 1, now()
       FROM jsonb_array_elements($1::jsonb) u`,
    [JSON.stringify(data.users)],
  );
  await db.query(
    `INSERT INTO gateway.agreements
       (agreement_id, title, parties, roles, purposes, data_categories, legal_basis, valid_from,
        valid_until, status, international_transfer_safeguards, version, updated_at)
     SELECT (a->>'agreementId')::uuid, a->>'title',
            ARRAY(SELECT jsonb_array_elements_text(a->'parties')),
            ARRAY(SELECT jsonb_array_elements_text(a->'roles')),
            ARRAY(SELECT jsonb_array_elements_text(a->'purposes')),
            ARRAY(SELECT jsonb_array_elements_text(a->'dataCategories')),
            a->'legalBasis', (a->>'validFrom')::timestamptz,
            nullif(a->>'validUntil', '')::timestamptz, a->>'status',
            a->>'internationalTransferSafeguards', 1, now()
       FROM jsonb_array_elements($1::jsonb) a`,
    [JSON.stringify(data.agreements)],
  );
  await db.query(
    `INSERT INTO gateway.access_grants
       (grant_id, user_id, purpose, valid_until, approved_by, recertified_at, version, updated_at)
     SELECT (g->>'grantId')::uuid, g->>'userId', g->>'purpose', (g->>'validUntil')::timestamptz,
            g->>'approvedBy', (g->>'recertifiedAt')::timestamptz, 1, now()
       FROM jsonb_array_elements($1::jsonb) g`,
    [JSON.stringify(data.grants)],
  );
  const rel = data.relationships;
  // An ended relationship was created (version 1) and then ended (version 2).
  await db.query(
    `INSERT INTO gateway.relationships
       (relationship_id, user_id, team_id, subject_id, type, valid_from, valid_until, ended_at,
        version, updated_at)
     SELECT id, u, t, s, ty, vf, vu, e, CASE WHEN e IS NULL THEN 1 ELSE 2 END, now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                   $7::timestamptz[], $8::timestamptz[]) AS r(id, u, t, s, ty, vf, vu, e)`,
    [
      rel.map((r) => r.relationshipId),
      rel.map((r) => r.userId),
      rel.map((r) => r.teamId),
      rel.map((r) => r.subjectId),
      rel.map((r) => r.type),
      rel.map((r) => r.validFrom),
      rel.map((r) => r.validUntil),
      rel.map((r) => r.endedAt),
    ],
  );

  const history = (kind: string, rows: { key: string; userId?: string; body: object }[]) =>
    db.query(
      `INSERT INTO gateway.reference_history (kind, key, version, user_id, body)
       SELECT $1, k, 1, u, b FROM unnest($2::text[], $3::text[], $4::jsonb[]) AS h(k, u, b)`,
      [
        kind,
        rows.map((r) => r.key),
        rows.map((r) => r.userId ?? null),
        rows.map((r) => JSON.stringify(r.body)),
      ],
    );
  await history(
    'organisation',
    data.organisations.map((o) => ({ key: o.odsCode, body: o })),
  );
  await history(
    'user',
    data.users.map((u) => ({ key: u.userId, userId: u.userId, body: u })),
  );
  await history(
    'agreement',
    data.agreements.map((a) => ({ key: a.agreementId, body: a })),
  );
  await history(
    'access-grant',
    data.grants.map((g) => {
      const due = new Date(g.recertifiedAt);
      due.setUTCMonth(due.getUTCMonth() + 2);
      const body = { ...g, viewOnly: true, recertificationDueAt: due.toISOString() };
      return { key: g.grantId, userId: g.userId, body };
    }),
  );
  await db.query(
    `INSERT INTO gateway.reference_history (kind, key, version, subject_id, body)
     SELECT 'relationship', r.relationship_id::text, v, r.subject_id,
            jsonb_build_object('relationshipId', r.relationship_id, 'userId', r.user_id,
              'teamId', r.team_id, 'subjectId', r.subject_id, 'type', r.type,
              'validFrom', ${ISO('r.valid_from')},
              'validUntil', CASE WHEN v < r.version THEN NULL ELSE ${ISO('r.valid_until')} END,
              'endedAt', CASE WHEN v < r.version THEN NULL ELSE ${ISO('r.ended_at')} END)
       FROM gateway.relationships r, generate_series(1, r.version) AS v`,
  );

  const events = data.replica.flatMap((p) => p.events.map((e) => ({ subjectId: p.subjectId, e })));
  await db.query(
    `INSERT INTO gateway.consent_replica_events
       (subject_id, stream_version, event_id, type, data, occurred_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])`,
    [
      events.map((x) => x.subjectId),
      events.map((x) => x.e.streamVersion),
      events.map((x) => x.e.eventId),
      events.map((x) => x.e.type),
      events.map((x) => JSON.stringify(x.e.data)),
      events.map((x) => x.e.occurredAt),
    ],
  );
  // Each person's state is the replay of their events, exactly as the consumer builds it.
  const states = data.replica.map((p) => ({
    subjectId: p.subjectId,
    state: replayReplica(p.events.map(({ eventId: _id, ...e }) => e as ReplicaEvent)),
  }));
  await db.query(
    `INSERT INTO gateway.consent_replica (subject_id, stream_version, state, updated_at)
     SELECT s, v, st, now() FROM unnest($1::text[], $2::int[], $3::jsonb[]) AS t(s, v, st)`,
    [
      states.map((s) => s.subjectId),
      states.map((s) => s.state.streamVersion),
      states.map((s) => JSON.stringify(s.state)),
    ],
  );
  await db.query('COMMIT');
  await db.query('ANALYZE');
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * `count` decision requests, each for a different requester and person: mostly a pair with a
 * relationship (the user's own or a team's), some with none; mixed purposes and categories,
 * some sensitive, some for another recipient, a few safeguarding overrides.
 */
function decisionRequests(
  data: ReferenceData,
  tokens: Map<string, string>,
  count: number,
): LoadRequest[] {
  const rand = random(7);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
  const weighted = <T>(choices: [T, number][]): T => {
    let r = rand();
    for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
    return choices[choices.length - 1][0];
  };
  const related = new Set(data.relationships.map((r) => `${r.userId ?? r.teamId}|${r.subjectId}`));
  const order = data.relationships.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const usersById = new Map(data.users.map((u) => [u.userId, u]));
  const used = new Set<string>();
  const requests: LoadRequest[] = [];
  let next = 0;
  while (requests.length < count) {
    let user: User;
    let subjectId: string;
    if (rand() < UNRELATED_SHARE) {
      user = pick(data.users);
      subjectId = pick(data.people);
      if (related.has(`${user.userId}|${subjectId}`)) continue;
      if (user.teams.some((t) => related.has(`${t}|${subjectId}`))) continue;
    } else {
      const r = data.relationships[order[next++ % order.length]];
      user = r.userId
        ? (usersById.get(r.userId) as User)
        : pick(data.teamMembers.get(r.teamId as string) as User[]);
      subjectId = r.subjectId;
    }
    const pair = `${user.userId}|${subjectId}`;
    if (used.has(pair)) continue;
    used.add(pair);

    const purpose = weighted(PURPOSE_MIX);
    const categories = new Set<DataCategory>();
    const ordinary = 1 + Math.floor(rand() * 4);
    while (categories.size < ordinary) categories.add(weighted(ORDINARY));
    if (purpose === 'safeguarding' && rand() < 0.7) categories.add('safeguarding');
    if (rand() < 0.25) categories.add(pick(SENSITIVE));
    const body: Record<string, unknown> = {
      subjectId,
      purposeOfUse: purpose,
      dataCategories: [...categories],
    };
    if (rand() < 0.08) body.recipientOrg = pick(data.organisations).odsCode;
    if ((purpose === 'safeguarding' || purpose === 'emergency') && rand() < 0.05) {
      body.breakGlass = {
        reason: 'Immediate risk of harm reported by the ambulance crew; enquiry opened under s.42.',
        statutoryBasis: 'care-act-2014-s42',
      };
    }
    requests.push({
      method: 'POST',
      path: '/v1/decisions',
      headers: { authorization: `Bearer ${tokens.get(user.userId)}` },
      body: JSON.stringify(body),
    });
  }
  return requests;
}

// ---------------------------------------------------------------------------------------------
// Processes

const ECHO_SERVER = `
const { createServer } = require('node:http');
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const echoed = JSON.stringify(JSON.parse(body));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(echoed) });
    res.end(echoed);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** The baseline: a bare node:http server echoing the JSON body, in its own process. */
async function startEcho(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return { child, port };
}

/** One baseline run: a fresh echo server, warmed up, measured, stopped. */
async function echoRun(
  warmUp: LoadRequest[],
  measured: LoadRequest[],
  children: ChildProcess[],
): Promise<LoadResult> {
  const echo = await startEcho();
  children.push(echo.child);
  await runLoad(echo.port, warmUp, CONCURRENCY, 200);
  const result = await runLoad(echo.port, measured, CONCURRENCY, 200);
  await stopChild(echo.child);
  if (result.failures > 0) {
    throw new Error(`${result.failures} echoes failed, first: ${result.firstFailure}`);
  }
  return result;
}

function distScript(app: string, script: string): string {
  return join(__dirname, '..', 'apps', app, 'src', script);
}

async function runScript(app: string, script: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [distScript(app, script)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${app} ${script} exited with ${code}`);
}

async function startGateway(url: string, port: number, dataDir: string): Promise<ChildProcess> {
  const profileDir = process.env.BENCH_GATEWAY_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      distScript('sharing-gateway', 'main.js'),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        DB_POOL_SIZE: String(GATEWAY_POOL_SIZE),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return child;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('sharing gateway did not become ready');
}

/**
 * The replica counts as stale (consent-dependent categories denied) unless the gateway's consumer
 * confirmed it caught up recently; it does so on its own while it runs.
 */
async function waitForReplica(db: Client): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ fresh: boolean }>(
      `SELECT coalesce(clock_timestamp() - caught_up_at < interval '1 second', false) AS fresh
         FROM gateway.consent_replica_status WHERE id = 1`,
    );
    if (rows[0]?.fresh) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the consent replica never caught up');
}

/** SIGTERM (the service drains and exits, writing its CPU profile if asked), then SIGKILL. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** CPU seconds used over an interval, and its length; from /proc, so null elsewhere. */
interface CpuUse {
  wall: number;
  gateway: number;
  postgres: number;
  client: number;
}

/**
 * Starts measuring the CPU the gateway, PostgreSQL and this process (the load client) use;
 * the returned function ends the interval. A backend that exits meanwhile is not counted.
 */
function measureCpu(gatewayPid: number | undefined, pgDataDir: string): () => CpuUse | null {
  if (!existsSync('/proc/self/stat')) return () => null;
  const wall = performance.now();
  const gateway = gatewayPid === undefined ? 0 : (procStat(gatewayPid)?.cpu ?? 0);
  const postgres = postgresCpu(pgDataDir);
  const client = process.cpuUsage();
  return () => {
    let postgresUsed = 0;
    for (const [pid, cpu] of postgresCpu(pgDataDir)) postgresUsed += cpu - (postgres.get(pid) ?? 0);
    const clientUsed = process.cpuUsage(client);
    return {
      wall: (performance.now() - wall) / 1000,
      gateway: gatewayPid === undefined ? 0 : (procStat(gatewayPid)?.cpu ?? gateway) - gateway,
      postgres: postgresUsed,
      client: (clientUsed.user + clientUsed.system) / 1e6,
    };
  };
}

/** Mean batch sizes from the gateway's histograms: facts reads and group commits. */
async function batchSizes(port: number): Promise<{ facts: number; commits: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string): number => {
    // `name 12` or, with the registry's default labels, `name{service="..."} 12`.
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    if (!line) throw new Error(`the gateway's metrics have no ${name}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const mean = (histogram: string) =>
    value(`${histogram}_sum`) / Math.max(1, value(`${histogram}_count`));
  return {
    facts: mean('gateway_facts_read_batch_size'),
    commits: mean('gateway_decision_commit_batch_size'),
  };
}

/**
 * What the machine could give at most with every core busy, at the CPU per decision measured,
 * and what the throughput target would need: the target is out of reach on a machine whose
 * ceiling is below it, however the work is scheduled.
 */
function ceiling(cpu: CpuUse, echoPerSecond: number): string {
  const perDecisionMs = ((cpu.gateway + cpu.postgres + cpu.client) * 1000) / MEASURED_REQUESTS;
  const cores = cpus().length;
  const target = TARGET_RATIO * echoPerSecond;
  return (
    `CPU ceiling: ${cores} cores / ${perDecisionMs.toFixed(2)} ms per decision (all three) = ` +
    `${Math.round((cores * 1000) / perDecisionMs)} decisions/s with every core busy; ` +
    `${TARGET_RATIO} x echo = ${Math.round(target)}/s needs <= ${((cores * 1000) / target).toFixed(2)} ms per decision\n`
  );
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function summary(run: Pick<LoadResult, 'latenciesMs'>): { p50: number; p99: number } {
  const sorted = Float64Array.from(run.latenciesMs).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

const kb = (bytes: string) => `${(Number(bytes) / 1024).toFixed(1)} KB`;
const rate = (n: number) => Math.round(n).toString().padStart(8);
const ms = (n: number) => `${n.toFixed(1).padStart(6)} ms`;
const us = (n: number) => `${n.toFixed(2)} µs`;

async function outcomeMix(db: Client): Promise<string> {
  const outcomes: { outcome: string; n: string }[] = (
    await db.query(
      `SELECT outcome, count(*) AS n FROM gateway.decisions GROUP BY outcome ORDER BY n DESC`,
    )
  ).rows;
  const reasons: { code: string; n: string }[] = (
    await db.query(
      `SELECT r->>'code' AS code, count(*) AS n
         FROM gateway.decisions d,
              json_array_elements(d.body->'decision'->'denied') x,
              json_array_elements(x->'reasons') r
        GROUP BY 1 ORDER BY n DESC`,
    )
  ).rows;
  const total = outcomes.reduce((sum, o) => sum + Number(o.n), 0);
  return (
    `outcomes: ${outcomes.map((o) => `${o.outcome} ${Math.round((100 * Number(o.n)) / total)}%`).join(', ')}; ` +
    `denied-category reasons: ${reasons.map((r) => `${r.code} ${r.n}`).join(', ')}`
  );
}

/**
 * The pure policy on the inputs the gateway stored with its decisions (request and facts, as
 * read in the decision's snapshot), so the facts are realistic by construction.
 */
async function benchEvaluate(db: Client): Promise<{
  p50: number;
  p99: number;
  batchMean: number;
  timerOverhead: number;
  matching: number;
  samples: number;
  agreements: number;
}> {
  const stored: { request: DecisionRequest; facts: StoredFacts; decision: Decision }[] = (
    await db.query(
      `SELECT body->'request' AS request, body->'facts' AS facts, body->'decision' AS decision
         FROM gateway.decisions ORDER BY decision_id LIMIT $1`,
      [FACT_SAMPLES],
    )
  ).rows;
  // Decisions store agreements by reference; the bench never changes an agreement, so the
  // current rows are the versions each decision read (checked).
  const [{ agreements: all }]: { agreements: AgreementBody[] }[] = (
    await db.query(`SELECT json_agg(${AGREEMENT_JSON}) AS agreements FROM gateway.agreements a`)
  ).rows;
  const byId = new Map(all.map((a) => [a.agreementId, agreementFacts(a)]));
  const rows = stored.map((r) => {
    const facts: DecisionFacts = {
      ...r.facts,
      agreements: r.facts.agreements.map((ref) => {
        const agreement = byId.get(ref.agreementId);
        if (agreement?.version !== ref.version) {
          throw new Error(`agreement ${ref.agreementId} v${ref.version} changed during the bench`);
        }
        return agreement;
      }),
    };
    return { request: r.request, facts, decision: r.decision };
  });
  const config = DEFAULT_POLICY_CONFIG;
  const essence = (d: Decision) =>
    JSON.stringify([
      d.outcome,
      d.permitted,
      d.denied.map((x) => [x.category, x.reasons.map((r) => r.code)]),
      d.legalBasis.agreementIds,
    ]);
  const agreements = rows.reduce((sum, r) => sum + r.facts.agreements.length, 0) / rows.length;
  const matching = rows.filter(
    (r) => essence(evaluate(r.request, r.facts, config)) === essence(r.decision),
  ).length;

  let sink = 0;
  for (let i = 0; i < EVALUATE_WARM_UP; i++) {
    const r = rows[i % rows.length];
    sink += evaluate(r.request, r.facts, config).permitted.length;
  }
  const overhead = new Float64Array(EVALUATE_BATCH * 10);
  for (let i = 0; i < overhead.length; i++) {
    const t0 = process.hrtime.bigint();
    overhead[i] = Number(process.hrtime.bigint() - t0);
  }
  const perCall = new Float64Array(EVALUATIONS);
  for (let i = 0; i < EVALUATIONS; i++) {
    const r = rows[i % rows.length];
    const t0 = process.hrtime.bigint();
    const decision = evaluate(r.request, r.facts, config);
    perCall[i] = Number(process.hrtime.bigint() - t0);
    sink += decision.permitted.length;
  }
  const batchStarted = process.hrtime.bigint();
  for (let i = 0; i < EVALUATIONS; i++) {
    const r = rows[i % rows.length];
    sink += evaluate(r.request, r.facts, config).permitted.length;
  }
  const batchNs = Number(process.hrtime.bigint() - batchStarted);
  if (sink < 0) throw new Error('unreachable');
  perCall.sort();
  overhead.sort();
  return {
    p50: percentile(perCall, 0.5) / 1000,
    p99: percentile(perCall, 0.99) / 1000,
    batchMean: batchNs / EVALUATIONS / 1000,
    timerOverhead: percentile(overhead, 0.5) / 1000,
    matching,
    samples: rows.length,
    agreements,
  };
}

/** What the database side of a decision costs, measured with the gateway stopped. */
interface DatabaseCosts {
  sequential: { p50: number; p99: number };
  planningMs: number;
  executionMs: number;
  concurrentRate: number;
  /** PostgreSQL CPU per facts query at the load's concurrency, or null without /proc. */
  postgresCpuMs: number | null;
  commit: { p50: number; p99: number };
}

/**
 * Where a decision's time goes on the database side, with the gateway stopped: the one facts
 * query (the gateway's own repository over TypeORM) in sequence, inside PostgreSQL (planning
 * and execution), and at the load's concurrency; and what one durable commit costs on this disk.
 */
async function databaseCosts(
  url: string,
  db: Client,
  pgDataDir: string,
  requests: LoadRequest[],
): Promise<DatabaseCosts> {
  const ds = createServiceDataSource({
    url,
    schema: 'gateway',
    migrations: [],
    poolSize: GATEWAY_POOL_SIZE,
  });
  await ds.initialize();
  try {
    const repository = new DecisionFactsRepository(ds);
    const asks = requests.map((r) => {
      const token = (r.headers?.authorization ?? '').slice('Bearer '.length);
      const { sub } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
        sub: string;
      };
      const body = JSON.parse(r.body ?? '{}') as { subjectId: string; recipientOrg?: string };
      return [sub, body.recipientOrg ?? null, body.subjectId] as const;
    });
    const live = (a: (typeof asks)[number]) => repository.live(a[0], a[1], a[2], 5000);

    const sequential = new Float64Array(FACT_QUERIES_SEQUENTIAL);
    for (let i = 0; i < sequential.length; i++) {
      const t0 = process.hrtime.bigint();
      await live(asks[i]);
      sequential[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }

    // The repository's one statement as it is sent once its agreements are cached.
    const cachedVersion = repository.agreementsVersion;
    if (cachedVersion === null) throw new Error('the facts repository cached no agreements');
    let planningMs = 0;
    let executionMs = 0;
    // Per decision, in batches of EXPLAINED_BATCH asks as the repository sends them under load.
    for (let i = 0; i < FACT_QUERIES_EXPLAINED; i++) {
      const batch = asks.slice(i * EXPLAINED_BATCH, (i + 1) * EXPLAINED_BATCH);
      const rows: { 'QUERY PLAN': { 'Planning Time': number; 'Execution Time': number }[] }[] =
        await ds.query(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${LIVE_FACTS}`, [
          JSON.stringify(
            batch.map((a, n) =>
              askRow({ requesterUserId: a[0], recipientOrg: a[1], subjectId: a[2] }, n),
            ),
          ),
          cachedVersion,
        ]);
      const share = FACT_QUERIES_EXPLAINED * batch.length;
      planningMs += rows[0]['QUERY PLAN'][0]['Planning Time'] / share;
      executionMs += rows[0]['QUERY PLAN'][0]['Execution Time'] / share;
    }

    let next = 0;
    const stopCpu = measureCpu(undefined, pgDataDir);
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < FACT_QUERIES_CONCURRENT) await live(asks[next++ % asks.length]);
      }),
    );
    const concurrentRate =
      FACT_QUERIES_CONCURRENT / (Number(process.hrtime.bigint() - started) / 1e9);
    const cpu = stopCpu();
    const postgresCpuMs = cpu ? (cpu.postgres * 1000) / FACT_QUERIES_CONCURRENT : null;

    await db.query(`CREATE TABLE public.bench_commit (id uuid PRIMARY KEY, body jsonb NOT NULL)`);
    const commit = new Float64Array(COMMITS);
    for (let i = 0; i < COMMITS; i++) {
      const t0 = process.hrtime.bigint();
      await db.query(`INSERT INTO public.bench_commit VALUES ($1, '{}')`, [randomUUID()]);
      commit[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    return {
      sequential: summary({ latenciesMs: sequential }),
      planningMs,
      executionMs,
      concurrentRate,
      postgresCpuMs,
      commit: summary({ latenciesMs: commit }),
    };
  } finally {
    await ds.destroy();
  }
}
