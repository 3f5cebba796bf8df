import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  ensureLocalKeyPair,
  nhsNumbers,
  OutboxWriter,
  signLocalToken,
  TOPICS,
  type DataCategory,
  type DecisionEventData,
  type EventEnvelope,
  type NewEvent,
  type Purpose,
  type Role,
} from '#common';
import {
  OVERRIDE_SUBJECT_SQL,
  OVERRIDES_SQL,
} from '../apps/audit-service/src/break-glass/break-glass.controller';
import { LogAppender, readHead, storeOf } from '../apps/audit-service/src/log/append/log-appender';
import { entryBytes } from '../apps/audit-service/src/log/domain/chain';
import {
  inclusionProof,
  leafHash,
  planNodes,
  rootHash,
  verifyInclusion,
  type NodeStore,
} from '../apps/audit-service/src/log/domain/merkle';
import { entryFromEvent } from '../apps/audit-service/src/log/ingest/entry-from-event';
import { MerkleNodeCache } from '../apps/audit-service/src/log/query/merkle-node-cache';
import { readNodeRanges } from '../apps/audit-service/src/log/query/merkle-node-cache.provider';
import { EntryPage } from '../apps/audit-service/src/log/verify/entry-page';
import {
  columnsAgree,
  LogVerifier,
  readEntryPage,
} from '../apps/audit-service/src/log/verify/log-verifier';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { runLoad, type LoadRequest } from './http-load';
import { printTopStatements, resetStatements } from './pg-statements';
import { postgresCpu, procStat } from './process-cpu';

/** Events through the transport: a warm-up, a steady load, then as fast as producers go. */
const WARM_UP_EVENTS = 400;
/** Steady loads (events/s), each for STEADY_SECONDS: how soon entries are covered below capacity. */
const STEADY_RATES = [1_000, 5_000];
const STEADY_SECONDS = 10;
const EVENTS = 100_000;
const PER_TRANSACTION = 100;
/** Producer transactions in flight at once (each on its own connection). */
const PRODUCERS = 2;
/** Share of the events that are gateway decisions; the rest are consent events. */
const DECISION_SHARE = 0.75;
const PEOPLE = 25_000;
const USERS = 1_000;
const AGREEMENTS = 50;

const TREE_HEAD_INTERVAL_MS = 250;
const TREE_HEAD_MAX_ENTRIES = 10_000;
const TRANSPORT_POLL_INTERVAL_MS = 50;
const SERVICE_POOL_SIZE = 10;
/** How often the bench reads the log's size while events flow (the resolution of "appended"). */
const WATCH_MS = 10;

const LOG_SIZE = 1_000_000;
/** Entries per LogAppender.append transaction while growing the log. */
const GROW_BATCH = 10_000;
/** Distinct events the growth's entries are made from. */
const GROW_TEMPLATES = 20_000;
const PROOF_WARM_UP = 100;
const PROOFS = 1_000;
const PROOFS_CHECKED = 20;
/** The service's default PROOF_CACHE_MAX_NODES, for the in-process proofs. */
const CACHE_MAX_NODES = 131_072;
/** Rows per page of the verification baseline: the verifier's page size. */
const PAGE = 10_000;

const TARGET_APPENDS_PER_S = 10_000;
const TARGET_COVERAGE_P99_MS = 1_000;
const TARGET_VERIFY_PER_S = 150_000;
/** Verifications of the whole log, of which the median counts. */
const VERIFY_RUNS = 3;
const TARGET_PROOF_MS = 5;

const POLICY_VERSION = '2026-11-24.1';
/** Width of a result line's label. */
const W = 64;

/**
 * The tamper-evident audit log (issue #5), with the audit service as a real process from dist/
 * on embedded PostgreSQL, fed through the consent service's and the gateway's outboxes:
 * - appends end to end (first outbox commit until the last entry is in the chain) while two
 *   producers commit 100,000 realistic events as fast as they can, against a plain batched
 *   INSERT of the same entry rows into an unindexed table;
 * - for every entry, its event's commit until it was in the chain and until the first signed
 *   tree head covering it was issued, at that load and at steady 1,000 and 5,000 events/s;
 * - the log grown to 1,000,000 entries with the service's own LogAppender (in process), then
 *   GET /v1/audit/entries/{seq}/proof one at a time, and the same proof in process;
 * - LogVerifier.verify() of the 1,000,000 entries (three times; the median counts) against bare
 *   SHA-256 of the same canonical bytes, with the verifier's steps timed apart.
 *
 * Set BENCH_AUDIT_CPU_PROF=<dir> to write a V8 CPU profile of the audit service to <dir>, and
 * BENCH_AUDIT_APPENDS_ONLY=1 to stop after the appends (a profile of ingestion alone), or
 * BENCH_AUDIT_PROOFS_ONLY=1 to skip the appends and the verification: grow the log, time proofs.
 */
export async function runAuditBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const children: ChildProcess[] = [];
  const sources: DataSource[] = [];
  const clients: Client[] = [];
  const benchStarted = performance.now();
  try {
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE audit_bench');
    await admin.end();
    const url = pg.url('audit_bench');
    // The audit service reads the consent service's and the gateway's outboxes in place.
    for (const app of ['consent-service', 'sharing-gateway', 'audit-service']) {
      await runScript(app, 'migrate.js', { DATABASE_URL: url });
    }
    const db = new Client({ connectionString: url });
    clients.push(db);
    await db.connect();
    const [{ synchronous_commit: syncCommit, fsync }]: {
      synchronous_commit: string;
      fsync: string;
    }[] = (
      await db.query(`SELECT current_setting('synchronous_commit') AS synchronous_commit,
                                  current_setting('fsync') AS fsync`)
    ).rows;
    process.stdout.write(
      `machine: ${cpus().length} cores, load average ${loadAverage()} at the start\n` +
        `audit service: TREE_HEAD_INTERVAL_MS = ${TREE_HEAD_INTERVAL_MS} (the service looks every 200 ms), ` +
        `TREE_HEAD_MAX_ENTRIES = ${TREE_HEAD_MAX_ENTRIES}, TRANSPORT_POLL_INTERVAL_MS = ${TRANSPORT_POLL_INTERVAL_MS}, ` +
        `DB_POOL_SIZE = ${SERVICE_POOL_SIZE}; synchronous_commit = ${syncCommit}, fsync = ${fsync}\n`,
    );

    const open = async (schema: string, poolSize: number, sessionRole?: string) => {
      const ds = createServiceDataSource({
        url,
        schema,
        migrations: [],
        poolSize,
        applicationName: `bench-${schema}`,
        sessionRole: sessionRole ?? null,
      });
      await ds.initialize();
      sources.push(ds);
      return ds;
    };
    const producers: Producers = {
      consent: {
        ds: await open('consent', PRODUCERS),
        writer: new OutboxWriter('consent', TOPICS.consent),
      },
      gateway: {
        ds: await open('gateway', PRODUCERS),
        writer: new OutboxWriter('gateway', TOPICS.gateway),
      },
    };
    // The log is written as the service writes it: as the INSERT-and-SELECT-only role.
    const audit = await open('audit', 4, 'audit_runtime');

    const port = await freePort();
    const service = await startAudit(url, port, dir);
    children.push(service);
    const workload = new Workload(20260101);
    const ctx: RunContext = { db, producers, workload, servicePid: service.pid, dir };

    // BENCH_AUDIT_PROOFS_ONLY=1: only the log grown to LOG_SIZE and the proofs, to iterate on them.
    if (process.env.BENCH_AUDIT_PROOFS_ONLY === '1') {
      const proofs = await growAndProve(db, audit, workload, port, dir);
      process.stdout.write(
        `target: proof <= ${TARGET_PROOF_MS} ms p99 ${proofs.http.p99 <= TARGET_PROOF_MS ? 'met' : 'MISSED'} (${proofs.http.p99.toFixed(2)} ms); ` +
          `bench time ${((performance.now() - benchStarted) / 1000).toFixed(0)} s; load average ${loadAverage()} at the end\n`,
      );
      return;
    }

    // 1. and 2.: appends end to end, and how soon a signed tree head covers each entry.
    await produce(producers, workload.transactions(WARM_UP_EVENTS), PRODUCERS);
    await waitUntil(db, `SELECT max(tree_size) >= $1 AS ok FROM audit.tree_heads`, [
      WARM_UP_EVENTS,
    ]);
    // The first steady load before the full one and the rest after it, so the full load meets
    // the log at the size it always has here.
    const steady: { rate: number; run: EventRun }[] = [];
    const [firstRate, ...laterRates] = STEADY_RATES;
    steady.push({
      rate: firstRate,
      run: await eventRun(ctx, firstRate * STEADY_SECONDS, firstRate),
    });
    await resetStatements(db);
    const full = await eventRun(ctx, EVENTS, null);
    await printTopStatements(db, EVENTS, 'entry');
    for (const rate of laterRates) {
      steady.push({ rate, run: await eventRun(ctx, rate * STEADY_SECONDS, rate) });
    }
    const plain = await plainInsertRate(url, db, full, sources);
    const plainRate = plain.rate;
    const cpu = full.cpu;
    process.stdout.write(
      `${`baseline: plain INSERT of the same ${EVENTS.toLocaleString('en-GB')} entry rows, ${PER_TRANSACTION} per tx`.padEnd(W)} ${fmtRate(plainRate)} rows/s      ratio 1.00\n` +
        `${`appends end to end, outbox commit -> entry in chain`.padEnd(W)} ${fmtRate(full.appendRate)} entries/s   ratio ${(full.appendRate / plainRate).toFixed(2)}\n` +
        `  ${EVENTS.toLocaleString('en-GB')} events (${Math.round(DECISION_SHARE * 100)}% gateway.decision.v1, the rest consent events, ` +
        `${(plain.entryBytes / 1024).toFixed(2)} KB per entry as JSON) in ${full.transactions} producer transactions of ` +
        `${PER_TRANSACTION}, ${PRODUCERS} in flight, committed at ${fmtRate(full.offeredRate).trim()} events/s;\n` +
        `  the last entry was in the chain ${full.tailSeconds.toFixed(2)} s after the last commit; after the producers stopped, ` +
        `the service appended the ${full.tailEntries.toLocaleString('en-GB')} entries still due at ${fmtRate(full.tailRate).trim()} entries/s\n` +
        `  the service appended them in ${full.batches.transactions} transactions ` +
        `(mean ${full.batches.mean.toFixed(0)} entries, max ${full.batches.max}), and meanwhile ` +
        `${full.ownEntries.toLocaleString('en-GB')} entries of its own events (notification status changes)\n` +
        (cpu
          ? `  CPU per entry while appending: audit service ${perEntry(cpu.service)} (${cores(cpu, cpu.service)} cores), ` +
            `PostgreSQL ${perEntry(cpu.postgres)} (${cores(cpu, cpu.postgres)} cores), ` +
            `bench producers ${perEntry(cpu.client)} (${cores(cpu, cpu.client)} cores)\n` +
            ceiling(cpu)
          : '') +
        `${`  event commit -> entry in chain`.padEnd(W)} ${latencies(full.latency.appended)}\n` +
        `${`  event commit -> covered by a signed tree head`.padEnd(W)} ${latencies(full.latency.covered)}   (${full.latency.heads} heads)\n` +
        steady
          .map(
            ({ rate, run }) =>
              `steady load, ${rate.toLocaleString('en-GB')} events/s for ${STEADY_SECONDS} s ` +
              `(committed at ${fmtRate(run.offeredRate).trim()} events/s), every entry:\n` +
              `${`  event commit -> entry in chain`.padEnd(W)} ${latencies(run.latency.appended)}\n` +
              `${`  event commit -> covered by a signed tree head`.padEnd(W)} ${latencies(run.latency.covered)}   (${run.latency.heads} heads)\n`,
          )
          .join(''),
    );

    // BENCH_AUDIT_APPENDS_ONLY=1 stops here: with BENCH_AUDIT_CPU_PROF, a profile of ingestion.
    if (process.env.BENCH_AUDIT_APPENDS_ONLY === '1') return;

    const proofs = await growAndProve(db, audit, workload, port, dir);
    await stopChild(service);

    const verified = await verifyLog(audit);
    const sha = await verifyBaseline(audit);
    process.stdout.write(
      `${`baseline: bare SHA-256 over the same canonical bytes, 1 per entry`.padEnd(W)} ${fmtRate(sha.shaRate)} entries/s   ratio 1.00   (${(sha.meanBytes / 1024).toFixed(2)} KB per entry)\n` +
        `${`LogVerifier.verify() of ${verified.checked.toLocaleString('en-GB')} entries, median of ${VERIFY_RUNS}`.padEnd(W)} ${fmtRate(verified.rate)} entries/s   ratio ${(verified.rate / sha.shaRate).toFixed(3)}` +
        `   (${verified.seconds.toFixed(1)} s, ${verified.heads} signed tree heads checked, intact; ` +
        `runs ${verified.rates.map((r) => Math.round(r)).join(', ')} entries/s)\n` +
        `  where its ${us(1e6 / verified.rate)} per entry goes (the same pages again, each step timed apart): ` +
        `page of stored bytes, hashes and leaves, read (binary COPY) and parsed ${us(sha.readUs)}, ` +
        `PostgreSQL's check of the search columns against the entry ${us(sha.checkUs)} (overlapped), ` +
        `chain + leaf SHA-256 ${us(sha.twoShaUs)}\n`,
    );

    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    process.stdout.write(
      `targets: appends >= ${TARGET_APPENDS_PER_S.toLocaleString('en-GB')}/s ${met(full.appendRate >= TARGET_APPENDS_PER_S)} (${fmtRate(full.appendRate).trim()}/s); ` +
        `covered by a signed tree head within ${TARGET_COVERAGE_P99_MS} ms p99: at full load ${met(full.latency.covered.p99 <= TARGET_COVERAGE_P99_MS)} ` +
        `(${full.latency.covered.p99.toFixed(0)} ms), ` +
        steady
          .map(
            ({ rate, run }) =>
              `at ${rate.toLocaleString('en-GB')} events/s ${met(run.latency.covered.p99 <= TARGET_COVERAGE_P99_MS)} (${run.latency.covered.p99.toFixed(0)} ms)`,
          )
          .join(', ') +
        '; ' +
        `verify >= ${TARGET_VERIFY_PER_S.toLocaleString('en-GB')}/s ${met(verified.rate >= TARGET_VERIFY_PER_S)} (${fmtRate(verified.rate).trim()}/s); ` +
        `proof <= ${TARGET_PROOF_MS} ms p99 ${met(proofs.http.p99 <= TARGET_PROOF_MS)} (${proofs.http.p99.toFixed(2)} ms)\n` +
        `bench time ${((performance.now() - benchStarted) / 1000).toFixed(0)} s; load average ${loadAverage()} at the end\n`,
    );
  } finally {
    for (const child of children) await stopChild(child);
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    for (const client of clients) await client.end().catch(() => undefined);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Workload: realistic events of both streams

type Stream = 'consent' | 'gateway';

interface ProducerTransaction {
  stream: Stream;
  events: (NewEvent & { id: string })[];
}

const ORGS: { odsCode: string; roles: [Role[], number][] }[] = [
  {
    odsCode: 'X26',
    roles: [
      [['social_worker'], 0.85],
      [['social_worker', 'safeguarding_lead'], 0.1],
      [['practitioner'], 0.05],
    ],
  },
  {
    odsCode: 'X27',
    roles: [
      [['social_worker'], 0.9],
      [['safeguarding_lead'], 0.1],
    ],
  },
  { odsCode: 'RX1', roles: [[['practitioner'], 1]] },
  { odsCode: 'RX2', roles: [[['practitioner'], 1]] },
  { odsCode: 'B82001', roles: [[['practitioner'], 1]] },
  { odsCode: 'CP101', roles: [[['practitioner'], 1]] },
];

const ORDINARY: DataCategory[] = [
  'demographics',
  'contacts',
  'care-plan',
  'assessments',
  'case-notes',
  'medications',
];
const SENSITIVE: DataCategory[] = ['safeguarding', 'mental-health', 'substance-misuse'];
const PURPOSE_MIX: [Purpose, number][] = [
  ['direct-care', 0.8],
  ['safeguarding', 0.1],
  ['emergency', 0.03],
  ['care-quality-audit', 0.04],
  ['service-planning', 0.03],
];
const DENIAL_REASONS = [
  'no-legitimate-relationship',
  'no-agreement',
  'sensitive-not-named',
  'no-consent',
  'consent-refused',
  'national-data-opt-out',
];

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

/** Gateway decisions and consent events as the two services publish them (shapes of #common). */
class Workload {
  private readonly rand: () => number;
  private readonly people: string[];
  private readonly users: { userId: string; org: string; roles: Role[] }[];
  private readonly agreements: string[];
  private readonly socialWorkers: { userId: string; org: string; roles: Role[] }[];
  private readonly versions = new Map<string, number>();

  constructor(seed: number) {
    this.rand = random(seed);
    this.people = nhsNumbers(PEOPLE, 400000000);
    this.users = Array.from({ length: USERS }, (_, i) => {
      const org = ORGS[i % ORGS.length];
      return {
        userId: `u-${org.odsCode.toLowerCase()}-${String(i).padStart(4, '0')}`,
        org: org.odsCode,
        roles: this.weighted(org.roles),
      };
    });
    this.agreements = Array.from({ length: AGREEMENTS }, () => randomUUID());
    this.socialWorkers = this.users.filter((u) => u.roles.includes('social_worker'));
  }

  /** `count` events in producer transactions of PER_TRANSACTION, each of one stream. */
  transactions(count: number): ProducerTransaction[] {
    const pending: Record<Stream, ProducerTransaction['events']> = { consent: [], gateway: [] };
    const out: ProducerTransaction[] = [];
    for (let i = 0; i < count; i++) {
      const stream: Stream = this.rand() < DECISION_SHARE ? 'gateway' : 'consent';
      pending[stream].push(stream === 'gateway' ? this.decision() : this.consent());
      if (pending[stream].length === PER_TRANSACTION) {
        out.push({ stream, events: pending[stream] });
        pending[stream] = [];
      }
    }
    for (const stream of ['consent', 'gateway'] as const) {
      if (pending[stream].length > 0) out.push({ stream, events: pending[stream] });
    }
    return out;
  }

  /** Envelopes as the outbox would carry them, for appending in process. */
  envelopes(count: number): EventEnvelope[] {
    const now = new Date().toISOString();
    return Array.from({ length: count }, () => ({
      ...(this.rand() < DECISION_SHARE ? this.decision() : this.consent()),
      occurredAt: now,
    }));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)];
  }

  private weighted<T>(mix: [T, number][]): T {
    let r = this.rand();
    for (const [value, weight] of mix) {
      if (r < weight) return value;
      r -= weight;
    }
    return mix[mix.length - 1][0];
  }

  private categories(): DataCategory[] {
    const n = 1 + Math.floor(this.rand() * 4);
    const set = new Set<DataCategory>();
    while (set.size < n) set.add(this.pick(ORDINARY));
    if (this.rand() < 0.15) set.add(this.pick(SENSITIVE));
    return [...set];
  }

  private decision(): NewEvent<DecisionEventData> & { id: string } {
    const decisionId = randomUUID();
    const subjectId = this.pick(this.people);
    const user = this.pick(this.users);
    const requested = this.categories();
    const r = this.rand();
    const outcome: DecisionEventData['outcome'] =
      r < 0.72 ? 'permit' : r < 0.86 ? 'partial' : 'deny';
    const deniedCategories =
      outcome === 'permit'
        ? []
        : outcome === 'deny'
          ? requested
          : requested.slice(Math.max(1, Math.floor(requested.length / 2)));
    const permitted = requested.filter((c) => !deniedCategories.includes(c));
    const breakGlass = outcome !== 'deny' && this.rand() < 0.01;
    const closesAt = new Date(Date.now() + 4 * 3600_000).toISOString();
    const withSystemCaller = this.rand() < 0.1;
    const data: DecisionEventData = {
      decisionId,
      channel: this.rand() < 0.55 ? 'record' : 'decision',
      subjectId,
      requester: { userId: user.userId, org: user.org, roles: user.roles },
      caller: withSystemCaller ? { userId: 'svc-ehr-connector', org: user.org } : null,
      recipientOrg: user.org,
      purpose: this.weighted(PURPOSE_MIX),
      requested,
      outcome,
      permitted,
      denied: deniedCategories.map((category) => ({
        category,
        reasons: [this.pick(DENIAL_REASONS)],
      })),
      legalBasis:
        outcome === 'deny'
          ? { article6: null, article9: null, statutes: [], agreementIds: [], source: 'none' }
          : breakGlass
            ? {
                article6: 'UK-GDPR-6-1-d',
                article9: 'UK-GDPR-9-2-c',
                statutes: ['care-act-2014-s42'],
                agreementIds: [],
                source: 'break-glass',
              }
            : {
                article6: 'UK-GDPR-6-1-e',
                article9: requested.some((c) => SENSITIVE.includes(c)) ? 'UK-GDPR-9-2-h' : null,
                statutes: ['hsc-sqa-2015-s251b'],
                agreementIds: [this.pick(this.agreements)],
                source: 'agreement',
              },
      // As the gateway's evaluate() obliges: only a new override owes the person a notice.
      obligations: breakGlass ? ['audit', 'notify-subject', 'ig-review'] : ['audit'],
      needToKnow: breakGlass
        ? 'break-glass'
        : outcome === 'deny' && this.rand() < 0.5
          ? 'none'
          : this.rand() < 0.94
            ? 'relationship'
            : 'access-grant',
      breakGlass: breakGlass ? { statute: 'care-act-2014-s42', windowClosesAt: closesAt } : null,
      breakGlassWindowId: breakGlass ? randomUUID() : null,
      consentVersion: Math.floor(this.rand() * 12),
      policyVersion: POLICY_VERSION,
      decidedAt: new Date().toISOString(),
    };
    return {
      id: randomUUID(),
      type: 'gateway.decision.v1',
      streamId: `decision-${decisionId}`,
      streamVersion: 1,
      subjectId,
      actor: {
        userId: withSystemCaller ? 'svc-ehr-connector' : user.userId,
        org: user.org,
        role: withSystemCaller ? 'system' : user.roles[0],
      },
      correlationId: randomUUID(),
      causationId: null,
      data,
    };
  }

  private consent(): NewEvent & { id: string } {
    const subjectId = this.pick(this.people);
    const version = (this.versions.get(subjectId) ?? 0) + 1;
    this.versions.set(subjectId, version);
    const user = this.pick(this.socialWorkers);
    const scope = {
      purposes: ['direct-care'] as Purpose[],
      recipients: this.rand() < 0.5 ? ['kind:nhs-trust'] : ['kind:nhs-trust', 'RX2', 'B82001'],
      dataCategories: this.categories(),
    };
    const [type, data] = this.weighted<[string, Record<string, unknown>]>([
      [
        [
          'consent.granted.v1',
          {
            consentId: randomUUID(),
            ...scope,
            validFrom: '2026-01-01T00:00:00.000Z',
            validUntil: this.rand() < 0.5 ? null : '2027-01-01T00:00:00.000Z',
            capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
            evidenceRef: this.rand() < 0.3 ? `doc-${randomUUID()}` : null,
          },
        ],
        0.35,
      ],
      [
        [
          'consent.refused.v1',
          {
            consentId: randomUUID(),
            ...scope,
            validFrom: '2026-01-01T00:00:00.000Z',
            validUntil: null,
            capture: { method: 'verbal', givenBy: 'subject', capacity: 'has-capacity' },
            evidenceRef: null,
          },
        ],
        0.05,
      ],
      [['consent.withdrawn.v1', { consentId: randomUUID() }], 0.1],
      [['objection.raised.v1', { objectionId: randomUUID(), ...scope }], 0.08],
      [['objection.decided.v1', { objectionId: randomUUID(), outcome: 'upheld' }], 0.05],
      [['national-opt-out.set.v1', {}], 0.12],
      [
        [
          'contact-preferences.set.v1',
          { channel: 'email', email: `person-${subjectId}@example.org` },
        ],
        0.15,
      ],
      [
        [
          'proxy.registered.v1',
          {
            proxyId: randomUUID(),
            kind: 'lasting-power-of-attorney-health',
            reference: `LPA-${Math.floor(this.rand() * 1e8)}`,
            validFrom: '2026-01-01T00:00:00.000Z',
            validUntil: null,
          },
        ],
        0.1,
      ],
    ]);
    return {
      id: randomUUID(),
      type,
      streamId: `subject-${subjectId}`,
      streamVersion: version,
      subjectId,
      actor: { userId: user.userId, org: user.org, role: 'social_worker' },
      correlationId: randomUUID(),
      causationId: null,
      data,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// 1. and 2.: appends end to end and tree-head coverage

type Producers = Record<Stream, { ds: DataSource; writer: OutboxWriter }>;

interface RunContext {
  db: Client;
  producers: Producers;
  workload: Workload;
  servicePid: number | undefined;
  dir: string;
}

interface EventRun {
  /** The log's size before the run. */
  from: number;
  /** The ids of the run's events. */
  ids: string[];
  transactions: number;
  offeredRate: number;
  appendRate: number;
  /** Entries the service logged of its own events (notification status changes) meanwhile. */
  ownEntries: number;
  tailSeconds: number;
  tailEntries: number;
  tailRate: number;
  batches: { transactions: number; mean: number; max: number };
  latency: { appended: Summary; covered: Summary; heads: number };
  cpu: CpuUse | null;
}

/**
 * Commits `count` events into the outboxes, at `rate` events/s or as fast as the producers go
 * (null), and follows them into the chain and under a signed tree head.
 */
async function eventRun(ctx: RunContext, count: number, rate: number | null): Promise<EventRun> {
  const { db } = ctx;
  const [{ size: from }]: { size: number }[] = (
    await db.query(`SELECT coalesce(max(seq), 0)::int AS size FROM audit.entries`)
  ).rows;
  const transactions = ctx.workload.transactions(count);
  const ids = transactions.flatMap((t) => t.events.map((e) => e.id));
  const stopCpu = measureCpu(ctx.servicePid, join(ctx.dir, 'data'));
  let last: string[] | null = null;
  const watching = watchLog(db, () => last);
  const { commitAt } = await produce(ctx.producers, transactions, PRODUCERS, rate);
  last = await lastEventIds(db);
  const watched = await watching;
  const cpu = stopCpu();
  const { rows: mine } = await db.query<{ seq: number; source_event_id: string }>(
    `SELECT seq::int, source_event_id FROM audit.entries
      WHERE seq > $1 AND source_event_id = ANY($2::uuid[]) ORDER BY seq`,
    [from, ids],
  );
  if (mine.length !== count) throw new Error(`${mine.length} of ${count} events were logged`);
  const lastSeq = mine[mine.length - 1].seq;
  await waitUntil(db, `SELECT max(tree_size) >= $1 AS ok FROM audit.tree_heads`, [lastSeq]);
  const firstCommit = Math.min(...commitAt);
  const lastCommit = Math.max(...commitAt);
  const atLastCommit =
    watched.samples.find((s) => s.at >= lastCommit) ?? watched.samples[watched.samples.length - 1];
  const tailEntries = lastSeq - atLastCommit.size;
  return {
    from,
    ids,
    transactions: transactions.length,
    offeredRate: count / ((lastCommit - firstCommit) / 1000),
    appendRate: count / ((watched.reachedAt - firstCommit) / 1000),
    ownEntries: lastSeq - from - count,
    tailSeconds: (watched.reachedAt - lastCommit) / 1000,
    tailEntries,
    tailRate: tailEntries / ((watched.reachedAt - atLastCommit.at) / 1000),
    batches: await appendBatches(db, from),
    latency: await coverage(db, transactions, commitAt, watched.samples, mine, from),
    cpu,
  };
}

/** The last event of each outbox in the order the audit service reads them. */
async function lastEventIds(db: Client): Promise<string[]> {
  const ids: string[] = [];
  for (const [schema, topic] of [
    ['consent', TOPICS.consent],
    ['gateway', TOPICS.gateway],
  ]) {
    const { rows } = await db.query<{ event_id: string }>(
      `SELECT event_id FROM ${schema}.outbox WHERE topic = $1
        ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
      [topic],
    );
    ids.push(...rows.map((r) => r.event_id));
  }
  return ids;
}

/**
 * Commits the transactions with `inFlight` producers, at most `rate` events/s when given;
 * returns each one's commit time (ms).
 */
async function produce(
  producers: Producers,
  transactions: ProducerTransaction[],
  inFlight: number,
  rate: number | null = null,
): Promise<{ commitAt: number[] }> {
  const commitAt = new Array<number>(transactions.length).fill(0);
  const started = Date.now();
  let next = 0;
  let scheduled = 0;
  const worker = async (): Promise<void> => {
    while (next < transactions.length) {
      const index = next++;
      const { stream, events } = transactions[index];
      if (rate !== null) {
        const due = started + (scheduled / rate) * 1000;
        scheduled += events.length;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const { ds, writer } = producers[stream];
      await ds.transaction((tx) => writer.append(tx, events));
      commitAt[index] = Date.now();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { commitAt };
}

/**
 * Reads the log's size every WATCH_MS (when each size was seen) until the events `last` names
 * (null while they are still being produced) are all in the chain.
 */
async function watchLog(
  db: Client,
  last: () => string[] | null,
): Promise<{ reachedAt: number; samples: { at: number; size: number }[] }> {
  const samples: { at: number; size: number }[] = [];
  const deadline = Date.now() + 300_000;
  for (;;) {
    // Presence first: an entry appended between the two reads is then within the size read.
    const ids = last();
    const present =
      ids !== null &&
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit.entries WHERE source_event_id = ANY($1::uuid[])`,
          [ids],
        )
      ).rows[0].n === ids.length;
    const { rows } = await db.query<{ size: number }>(
      `SELECT coalesce(max(seq), 0)::int AS size FROM audit.entries`,
    );
    const at = Date.now();
    samples.push({ at, size: rows[0].size });
    if (present) return { reachedAt: at, samples };
    if (at > deadline) throw new Error(`the events were not all logged in 300 s`);
    await new Promise((r) => setTimeout(r, WATCH_MS));
  }
}

/**
 * For every entry of the run: from its producer's commit until the bench saw it in the chain,
 * and until the first signed tree head with tree_size >= its seq was issued (issued_at).
 */
async function coverage(
  db: Client,
  transactions: ProducerTransaction[],
  commitAt: number[],
  samples: { at: number; size: number }[],
  entries: { seq: number; source_event_id: string }[],
  after: number,
): Promise<{ appended: Summary; covered: Summary; heads: number }> {
  const txOf = new Map<string, number>();
  transactions.forEach((t, i) => t.events.forEach((e) => txOf.set(e.id, i)));
  const { rows: heads } = await db.query<{ tree_size: number; issued_at: Date }>(
    `SELECT tree_size::int, issued_at FROM audit.tree_heads WHERE tree_size > $1 ORDER BY tree_size`,
    [after],
  );
  const appended = new Float64Array(entries.length);
  const covered = new Float64Array(entries.length);
  let sample = 0;
  let head = 0;
  entries.forEach((entry, i) => {
    const tx = txOf.get(entry.source_event_id);
    if (tx === undefined) throw new Error(`entry ${entry.seq} is not from this run`);
    while (sample < samples.length - 1 && samples[sample].size < entry.seq) sample++;
    while (head < heads.length - 1 && heads[head].tree_size < entry.seq) head++;
    appended[i] = samples[sample].at - commitAt[tx];
    covered[i] = heads[head].issued_at.getTime() - commitAt[tx];
  });
  return { appended: summarise(appended), covered: summarise(covered), heads: heads.length };
}

/** The service's append transactions: the entries each appended (rows of one share xmin). */
async function appendBatches(
  db: Client,
  afterSeq: number,
): Promise<{ transactions: number; mean: number; max: number }> {
  const [row]: { transactions: number; mean: number; max: number }[] = (
    await db.query(
      `SELECT count(*)::int AS transactions, avg(n)::float AS mean, max(n)::int AS max
         FROM (SELECT count(*) AS n FROM audit.entries WHERE seq > $1 GROUP BY xmin) b`,
      [afterSeq],
    )
  ).rows;
  return row;
}

/**
 * The baseline: the run's entry rows (same jsonb, hashes, ids, times) INSERTed in batches of
 * PER_TRANSACTION into a copy of audit.entries with no index, key or generated column. It
 * leaves out entry_canonical (the hashed bytes, kept since issue 5) on purpose: the yardstick
 * stays what it was, so ratios from before and after that column compare.
 */
async function plainInsertRate(
  url: string,
  db: Client,
  run: EventRun,
  sources: DataSource[],
): Promise<{ rate: number; entryBytes: number }> {
  const { rows } = await db.query<{
    seq: string;
    entry: unknown;
    prev_hash: Buffer;
    hash: Buffer;
    source_event_id: string;
    at: Date;
  }>(
    `SELECT seq::text, entry, prev_hash, hash, source_event_id, at FROM audit.entries
      WHERE seq > $1 AND source_event_id = ANY($2::uuid[]) ORDER BY seq`,
    [run.from, run.ids],
  );
  const batches = [];
  let jsonBytes = 0;
  for (let i = 0; i < rows.length; i += PER_TRANSACTION) {
    const batch = rows.slice(i, i + PER_TRANSACTION);
    const entries = batch.map((r) => JSON.stringify(r.entry));
    for (const entry of entries) jsonBytes += Buffer.byteLength(entry);
    batches.push([
      batch.map((r) => r.seq),
      entries,
      batch.map((r) => r.prev_hash),
      batch.map((r) => r.hash),
      batch.map((r) => r.source_event_id),
      batch.map((r) => r.at.toISOString()),
    ]);
  }
  await db.query(`CREATE TABLE public.plain_entries (seq bigint, entry jsonb, prev_hash bytea,
                    hash bytea, source_event_id uuid, at timestamptz)`);
  const ds = createServiceDataSource({ url, schema: 'public', migrations: [], poolSize: 1 });
  await ds.initialize();
  sources.push(ds);
  const started = performance.now();
  for (const params of batches) {
    await ds.transaction((tx) =>
      tx.query(
        `INSERT INTO public.plain_entries (seq, entry, prev_hash, hash, source_event_id, at)
         SELECT * FROM unnest($1::bigint[], $2::jsonb[], $3::bytea[], $4::bytea[], $5::uuid[],
                              $6::timestamptz[])`,
        params,
      ),
    );
  }
  const rate = rows.length / ((performance.now() - started) / 1000);
  await ds.destroy();
  return { rate, entryBytes: jsonBytes / rows.length };
}

// ---------------------------------------------------------------------------------------------
// 3. and 4.: the log at 1,000,000 entries

/**
 * Appends entries with the service's LogAppender until the log holds LOG_SIZE. The entries are
 * made from GROW_TEMPLATES events (entryFromEvent), each reused with a fresh event id and
 * correlation id: making every one afresh would add half a minute to the run.
 */
async function growLog(
  audit: DataSource,
  workload: Workload,
): Promise<{ from: number; size: number; seconds: number; rate: number }> {
  const appender = new LogAppender();
  const templates = workload.envelopes(GROW_TEMPLATES).map(entryFromEvent);
  const from = (await readHead(audit)).size;
  const started = performance.now();
  let size = from;
  while (size < LOG_SIZE) {
    const contents = Array.from({ length: Math.min(GROW_BATCH, LOG_SIZE - size) }, (_, i) => ({
      ...templates[(size + i) % templates.length],
      sourceEventId: randomUUID(),
      correlationId: randomUUID(),
    }));
    const appended = await audit.transaction((tx) => appender.append(tx, contents));
    size = appended[appended.length - 1].seq;
  }
  const seconds = (performance.now() - started) / 1000;
  return { from, size, seconds, rate: (size - from) / seconds };
}

/** The log grown to LOG_SIZE through LogAppender, settled, then proofs timed and printed. */
async function growAndProve(
  db: Client,
  audit: DataSource,
  workload: Workload,
  port: number,
  dir: string,
): Promise<Awaited<ReturnType<typeof proofLatency>>> {
  // 3.: the log at 1,000,000 entries, grown through the service's own append code.
  const grown = await growLog(audit, workload);
  await waitUntil(db, `SELECT max(tree_size) >= $1 AS ok FROM audit.tree_heads`, [grown.size]);
  const [{ treeSize }]: { treeSize: number }[] = (
    await db.query(`SELECT max(tree_size)::int AS "treeSize" FROM audit.tree_heads`)
  ).rows;
  // A log of this size has long been vacuumed in service; just grown in bulk, it has not yet.
  const settleStarted = performance.now();
  await db.query(`VACUUM (ANALYZE) audit.entries, audit.merkle_nodes`);
  await db.query(`CHECKPOINT`);
  const settleSeconds = (performance.now() - settleStarted) / 1000;
  process.stdout.write(
    `grew the log from ${grown.from.toLocaleString('en-GB')} to ${grown.size.toLocaleString('en-GB')} entries with ` +
      `LogAppender.append in process, ${GROW_BATCH.toLocaleString('en-GB')} per transaction: ` +
      `${grown.seconds.toFixed(1)} s (${fmtRate(grown.rate).trim()} entries/s); ` +
      `then VACUUM (ANALYZE) and CHECKPOINT ${settleSeconds.toFixed(1)} s\n`,
  );

  const proofs = await proofLatency(port, dir, audit, treeSize);
  process.stdout.write(
    `${`GET /v1/audit/entries/{seq}/proof at ${treeSize.toLocaleString('en-GB')}, 1 in flight`.padEnd(W)} ${latencies(proofs.http)}` +
      `   (${PROOFS} random seqs; ${PROOFS_CHECKED} answers checked against the signed head)\n` +
      `${`  in process: the route's 1 read, proof computed`.padEnd(W)} ${latencies(proofs.inProcess)}   (${proofs.nodes.toFixed(1)} nodes read per proof; ` +
      `node cache ${proofs.cacheFill.nodes.toLocaleString('en-GB')} nodes, filled in ${proofs.cacheFill.ms.toFixed(0)} ms)\n` +
      `    reads p50/p99: ${proofs.steps.map((step) => `${step.name} ${step.p50.toFixed(2)}/${step.p99.toFixed(2)} ms`).join(', ')}\n` +
      `${`  in process: proof computation alone (nodes in memory)`.padEnd(W)} p50 ${us(proofs.compute.p50)}  p99 ${us(proofs.compute.p99)}\n`,
  );
  await overrideReports(audit, treeSize);
  return proofs;
}

/**
 * The IG officer's safeguarding-override report and a review's lookup of one override, at the
 * grown log's size, in process: as they run, and with PostgreSQL's index scans turned off (what
 * they cost before the partial indexes of the overrides, reading every entry).
 */
async function overrideReports(audit: DataSource, treeSize: number): Promise<void> {
  const [{ overrides, decision }]: { overrides: number; decision: string }[] = await audit.query(
    `SELECT count(*)::int AS overrides,
            (array_agg(entry->'details'->>'decisionId' ORDER BY seq DESC))[1] AS decision
       FROM audit.entries WHERE jsonb_typeof(entry->'details'->'breakGlass') = 'object'`,
  );
  // A review of a decision that is not an override (a mistyped id, answered 404) looks at every
  // candidate: without the index, every entry. The grown log repeats its templates' decision
  // ids, so a found one can turn up early in a scan and says little.
  const unknown = randomUUID();
  const time = async (sql: string, params: unknown[], runs: number, indexes: boolean) => {
    const ms = new Float64Array(runs);
    for (let i = 0; i < runs; i++) {
      await audit.transaction(async (tx) => {
        if (!indexes) {
          await tx.query(`SET LOCAL enable_indexscan = off`);
          await tx.query(`SET LOCAL enable_bitmapscan = off`);
        }
        const started = performance.now();
        await tx.query(sql, params);
        ms[i] = performance.now() - started;
      });
    }
    return summarise(ms).p50;
  };
  const list = await time(OVERRIDES_SQL, ['unreviewed', 0, 1001], 20, true);
  const one = await time(OVERRIDE_SUBJECT_SQL, [decision], 20, true);
  const none = await time(OVERRIDE_SUBJECT_SQL, [unknown], 20, true);
  const listScan = await time(OVERRIDES_SQL, ['unreviewed', 0, 1001], 3, false);
  const noneScan = await time(OVERRIDE_SUBJECT_SQL, [unknown], 3, false);
  process.stdout.write(
    `${`safeguarding overrides at ${treeSize.toLocaleString('en-GB')} (${overrides.toLocaleString('en-GB')} of them), in process`.padEnd(W)} ` +
      `oldest 1,000 listed p50 ${list.toFixed(1)} ms, one found by decision p50 ${one.toFixed(2)} ms, ` +
      `an unknown decision p50 ${none.toFixed(2)} ms; reading the whole log instead (index scans off): ` +
      `list ${listScan.toFixed(0)} ms, unknown decision ${noneScan.toFixed(0)} ms\n`,
  );
}

/** Proofs over HTTP, one in flight, and the same proofs computed in process. */
async function proofLatency(
  port: number,
  dir: string,
  audit: DataSource,
  treeSize: number,
): Promise<{
  http: Summary;
  inProcess: Summary;
  steps: (Summary & { name: string })[];
  compute: Summary;
  nodes: number;
  cacheFill: { ms: number; nodes: number };
}> {
  const token = signLocalToken(ensureLocalKeyPair(dir), {
    sub: 'ig-bench',
    org: 'X26',
    roles: ['ig_officer'],
    teams: [],
    expiresIn: '1h',
  });
  const rand = random(7);
  const seqs = Array.from(
    { length: PROOF_WARM_UP + PROOFS },
    () => 1 + Math.floor(rand() * treeSize),
  );
  const request = (seq: number): LoadRequest => ({
    method: 'GET',
    path: `/v1/audit/entries/${seq}/proof`,
    headers: { authorization: `Bearer ${token}` },
  });
  const warm = await runLoad(port, seqs.slice(0, PROOF_WARM_UP).map(request), 1, 200);
  const measured = await runLoad(port, seqs.slice(PROOF_WARM_UP).map(request), 1, 200);
  for (const run of [warm, measured]) {
    if (run.failures > 0) throw new Error(`${run.failures} proofs failed: ${run.firstFailure}`);
  }
  // Answers are proofs: each path leads from the entry's leaf to the signed head's root.
  for (const seq of seqs.slice(0, PROOFS_CHECKED)) {
    const answer = (await (
      await fetch(`http://127.0.0.1:${port}${request(seq).path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as {
      leafHash: string;
      treeSize: number;
      auditPath: string[];
      rootHash: string;
      entry: unknown;
      treeHead: { rootHash: string; treeSize: number } | null;
    };
    const leaf = leafHash(entryBytes(answer.entry));
    const root = Buffer.from(answer.rootHash, 'hex');
    const ok =
      answer.treeSize === treeSize &&
      answer.treeHead?.rootHash === answer.rootHash &&
      leaf.toString('hex') === answer.leafHash &&
      verifyInclusion(
        leaf,
        seq - 1,
        answer.treeSize,
        answer.auditPath.map((h) => Buffer.from(h, 'hex')),
        root,
      );
    if (!ok) throw new Error(`the proof of entry ${seq} does not verify`);
  }

  // In process, the controller's one read (the latest signed head is known to the service, so
  // the nodes its proof needs are planned first and those not in its node cache come with the
  // entry), then the proof. The cache is filled first, as the service's first proof does.
  const cache = new MerkleNodeCache(readNodeRanges(audit), CACHE_MAX_NODES);
  const fillStarted = performance.now();
  await cache.refresh(treeSize);
  const cacheFill = { ms: performance.now() - fillStarted, nodes: cache.nodeCount };
  const measuredSeqs = seqs.slice(PROOF_WARM_UP);
  const steps = ['entry + uncached nodes'].map((name) => ({
    name,
    ms: new Float64Array(measuredSeqs.length),
  }));
  const inProcess = new Float64Array(measuredSeqs.length);
  const loaded: { seq: number; canonical: string; nodes: Map<string, Buffer> }[] = [];
  let nodeCount = 0;
  for (const [i, seq] of measuredSeqs.entries()) {
    const started = performance.now();
    const work = (store: NodeStore) => ({
      path: inclusionProof(store, seq - 1, treeSize),
      root: rootHash(store, treeSize),
    });
    const { held, missing } = cache.take(planNodes(work));
    const rows: { entry: unknown; canonical: string | null; nodes: string | null }[] =
      await audit.query(
        `SELECT e.entry, e.entry_canonical AS canonical,
                (SELECT string_agg(n.level || ':' || n.index || ':' || encode(n.hash, 'hex'), ',')
                   FROM audit.merkle_nodes n
                   JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, index)
                     ON n.level = w.level AND n.index = w.index) AS nodes
           FROM audit.entries e WHERE e.seq = $1`,
        [seq, missing.map((w) => w.level), missing.map((w) => w.index)],
      );
    steps[0].ms[i] = performance.now() - started;
    const nodes = new Map(held);
    for (const node of rows[0].nodes?.split(',') ?? []) {
      const [level, index, hex] = node.split(':');
      nodes.set(`${level}:${index}`, Buffer.from(hex, 'hex'));
    }
    work(storeOf(nodes));
    const canonical = rows[0].canonical ?? entryBytes(rows[0].entry).toString('utf8');
    leafHash(canonical);
    inProcess[i] = performance.now() - started;
    nodeCount += missing.length;
    loaded.push({ seq, canonical, nodes });
  }
  const compute = new Float64Array(loaded.length);
  for (let round = 0; round < 2; round++) {
    for (const [i, { seq, canonical, nodes }] of loaded.entries()) {
      const t = performance.now();
      const work = (store: NodeStore) => ({
        path: inclusionProof(store, seq - 1, treeSize),
        root: rootHash(store, treeSize),
      });
      planNodes(work);
      work(storeOf(nodes));
      leafHash(canonical);
      compute[i] = (performance.now() - t) * 1000;
    }
  }
  return {
    http: summarise(measured.latenciesMs),
    inProcess: summarise(inProcess),
    steps: steps.map((step) => ({ name: step.name, ...summarise(step.ms) })),
    compute: summarise(compute),
    nodes: nodeCount / loaded.length,
    cacheFill,
  };
}

async function verifyLog(audit: DataSource): Promise<{
  checked: number;
  seconds: number;
  rate: number;
  heads: number;
  rates: number[];
}> {
  const { size } = await readHead(audit);
  const runs: { seconds: number; checked: number; heads: number }[] = [];
  for (let i = 0; i < VERIFY_RUNS; i++) {
    const started = performance.now();
    const result = await new LogVerifier(audit).verify();
    const seconds = (performance.now() - started) / 1000;
    if (!result.ok || result.checked !== size) {
      throw new Error(`the log did not verify: ${JSON.stringify(result)}`);
    }
    runs.push({ seconds, checked: result.checked, heads: result.treeHeadsChecked });
  }
  // The median run: one run on a shared machine moves by +-10% with its neighbours' load.
  const ordered = [...runs].sort((a, b) => a.seconds - b.seconds);
  const median = ordered[Math.floor(ordered.length / 2)];
  return {
    checked: median.checked,
    seconds: median.seconds,
    rate: median.checked / median.seconds,
    heads: median.heads,
    rates: runs.map((r) => r.checked / r.seconds),
  };
}

/**
 * The baseline, bare SHA-256 over each entry's canonical bytes, timed alone; on the way, the
 * verifier's steps over the same pages, each timed apart (microseconds per entry): reading
 * the stored bytes, hashes and leaves; PostgreSQL's check that the stored columns agree with
 * the bytes (which the verifier overlaps with its hashing); the two hashes per entry.
 */
async function verifyBaseline(audit: DataSource): Promise<{
  shaRate: number;
  meanBytes: number;
  readUs: number;
  checkUs: number;
  twoShaUs: number;
}> {
  let read = 0;
  let check = 0;
  let sha = 0;
  let twoSha = 0;
  let bytesTotal = 0;
  let entries = 0;
  const zero = Buffer.alloc(32);
  const leafPrefix = Buffer.from([0]);
  for (let from = 0; ; from += PAGE) {
    // The verifier's page read (binary COPY) without PostgreSQL's check, then with it.
    let t = performance.now();
    const page = await readEntryPage(audit, from, PAGE, 'true');
    const pageRead = performance.now() - t;
    read += pageRead;
    t = performance.now();
    await readEntryPage(audit, from, PAGE, columnsAgree(true, false));
    check += Math.max(0, performance.now() - t - pageRead);
    const bytes = EntryPage.allBytes(page);
    if (bytes.length === 0) break;
    t = performance.now();
    for (const b of bytes) createHash('sha256').update(b).digest();
    sha += performance.now() - t;
    t = performance.now();
    for (const b of bytes) {
      createHash('sha256').update(zero).update(b).digest();
      createHash('sha256').update(leafPrefix).update(b).digest();
    }
    twoSha += performance.now() - t;
    for (const b of bytes) bytesTotal += b.length;
    entries += bytes.length;
  }
  const per = (totalMs: number) => (totalMs * 1000) / entries;
  return {
    shaRate: entries / (sha / 1000),
    meanBytes: bytesTotal / entries,
    readUs: per(read),
    checkUs: per(check),
    twoShaUs: per(twoSha),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

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

async function startAudit(url: string, port: number, dataDir: string): Promise<ChildProcess> {
  const profileDir = process.env.BENCH_AUDIT_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      distScript('audit-service', 'main.js'),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        DB_POOL_SIZE: String(SERVICE_POOL_SIZE),
        TREE_HEAD_INTERVAL_MS: String(TREE_HEAD_INTERVAL_MS),
        TREE_HEAD_MAX_ENTRIES: String(TREE_HEAD_MAX_ENTRIES),
        TRANSPORT_POLL_INTERVAL_MS: String(TRANSPORT_POLL_INTERVAL_MS),
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
  throw new Error('audit service did not become ready');
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

async function waitUntil(db: Client, sql: string, params: unknown[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ ok: boolean | null }>(sql, params);
    if (rows[0]?.ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for: ${sql} ${JSON.stringify(params)}`);
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface CpuUse {
  wall: number;
  service: number;
  postgres: number;
  client: number;
}

/** CPU the service, PostgreSQL and this process use over an interval; null without /proc. */
function measureCpu(servicePid: number | undefined, pgDataDir: string): () => CpuUse | null {
  if (!existsSync('/proc/self/stat') || servicePid === undefined) return () => null;
  const wall = performance.now();
  const service = procStat(servicePid)?.cpu ?? 0;
  const postgres = postgresCpu(pgDataDir);
  const client = process.cpuUsage();
  return () => {
    let postgresUsed = 0;
    for (const [pid, cpu] of postgresCpu(pgDataDir)) postgresUsed += cpu - (postgres.get(pid) ?? 0);
    const clientUsed = process.cpuUsage(client);
    return {
      wall: (performance.now() - wall) / 1000,
      service: (procStat(servicePid)?.cpu ?? service) - service,
      postgres: postgresUsed,
      client: (clientUsed.user + clientUsed.system) / 1e6,
    };
  };
}

interface Summary {
  p50: number;
  p99: number;
  max: number;
}

function summarise(values: Float64Array): Summary {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

const loadAverage = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const fmtRate = (n: number) => Math.round(n).toString().padStart(8);
const latencies = (s: Summary) => `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`;
/**
 * What the machine could append at most with every core busy, at the CPU per entry measured
 * (service, PostgreSQL and the producers that share it), and what the target would need.
 */
function ceiling(cpu: CpuUse): string {
  const perEntryUs = ((cpu.service + cpu.postgres + cpu.client) * 1e6) / EVENTS;
  const n = cpus().length;
  return (
    `  CPU ceiling: ${n} cores / ${perEntryUs.toFixed(0)} µs per entry (all three) = ` +
    `${Math.round((n * 1e6) / perEntryUs)} entries/s with every core busy; ` +
    `${TARGET_APPENDS_PER_S.toLocaleString('en-GB')}/s needs <= ${((n * 1e6) / TARGET_APPENDS_PER_S).toFixed(0)} µs per entry\n`
  );
}

const perEntry = (seconds: number) => `${((seconds * 1e6) / EVENTS).toFixed(0)} µs`;
const cores = (cpu: CpuUse, seconds: number) => (seconds / cpu.wall).toFixed(2);
const ms = (n: number) => `${(n >= 100 ? n.toFixed(0) : n.toFixed(2)).padStart(7)} ms`;
const us = (n: number) => `${n.toFixed(1)} µs`;
