import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { CommonEnv, nhsNumbers, type Role } from '#common';
import { AuditServiceEnv } from '../apps/audit-service/src/config/env';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { kcatInstalled, startKafkaMock, type KafkaMock } from '../test/support/kafka-mock';
import { startSystem, type RunningSystem } from '../test/support/system';
import { runLoad, type LoadRequest, type LoadResult } from './http-load';

/** Social workers reading records, each with a care relationship to PEOPLE_PER_WORKER people. */
const WORKERS = 20;
const PEOPLE_PER_WORKER = 25;
const CONCURRENCY = 32;
const WARM_UP_REQUESTS = 1_000;
const MEASURED_REQUESTS = 8_000;
/** Extra record reads sent in rounds of this size while withdrawals are still being measured. */
const EXTRA_LOAD_ROUND = 1_000;
/** Consent grant -> withdrawal cycles per phase (idle, under load), each on its own person. */
const WITHDRAWALS = 60;
/** Cycles in flight at once, on different people, so a phase takes seconds, not minutes. */
const CYCLES_IN_FLIGHT = 4;
/** A cycle withdraws after a random pause up to this long once the grant is enforced. */
const WITHDRAWAL_PAUSE_MAX_MS = 1_000;
/** While waiting for the replica to change, a decision is asked this often ... */
const DECISION_POLL_GAP_MS = 20;
/** ... with at most this many unanswered, so a slow answer does not blur when it changed. */
const POLLS_IN_FLIGHT = 4;
const ENFORCEMENT_TIMEOUT_MS = 15_000;
/** One audited record read (a probe) this often, to time its way into the audit log. */
const AUDIT_PROBE_INTERVAL_MS = 50;
/** How often the bench reads new audit entries: the resolution of the ingestion lag. */
const AUDIT_POLL_MS = 20;
const AUDIT_DRAIN_TIMEOUT_MS = 30_000;

const TARGET_ENFORCEMENT_P99_MS = 1_000;

const TODAY = new Date().toISOString().slice(0, 10);
const RECORD_QUERY = 'purpose=direct-care&categories=care-plan,assessments';
const HOUSING_ASK = { purposeOfUse: 'direct-care', dataCategories: ['care-plan'] };

/**
 * The whole system as `npm start` runs it: the consent service, the sharing gateway and the
 * audit service as separate processes (test/support/system.ts) on embedded PostgreSQL, once
 * on the PostgreSQL outbox transport and once on Kafka (the librdkafka mock cluster from
 * `kcat`), with the transport settings at their defaults. For each transport: permitted record
 * reads through the gateway at 32 in flight (every one an audited decision), against a bare
 * node:http hello-world in its own process hit by the same client with the same requests;
 * how long after a consent withdrawal is answered the gateway first denies on it (idle and
 * under the record load), split into the transport's share and the rest; and how long after a
 * decision is answered its entry is in the audit log.
 */
export async function runE2eBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const people = nhsNumbers(WORKERS * PEOPLE_PER_WORKER + 2 * WITHDRAWALS + 1, 910_000_000);
  const readers = Array.from({ length: WORKERS }, (_, w) => ({
    userId: `sw-${w}`,
    people: people.slice(w * PEOPLE_PER_WORKER, (w + 1) * PEOPLE_PER_WORKER),
  }));
  const housingPeople = people.slice(WORKERS * PEOPLE_PER_WORKER);
  // Same path and headers as the record reads (a token from a throwaway key: the echo ignores it).
  const echoRequests = recordReads(readers, () => 'x'.repeat(600), MEASURED_REQUESTS);
  const results: TransportResult[] = [];
  const skipped: string[] = [];
  try {
    const before = await helloWorldRun(echoRequests);
    const defaults = new CommonEnv();
    const auditDefaults = new AuditServiceEnv();
    const env = {
      TRANSPORT_POLL_INTERVAL_MS: String(defaults.TRANSPORT_POLL_INTERVAL_MS),
      KAFKA_MAX_WAIT_MS: String(defaults.KAFKA_MAX_WAIT_MS),
      TREE_HEAD_INTERVAL_MS: String(auditDefaults.TREE_HEAD_INTERVAL_MS),
    };
    process.stdout.write(
      `services: consent, gateway and audit as processes on embedded PostgreSQL; ` +
        `TRANSPORT_POLL_INTERVAL_MS=${env.TRANSPORT_POLL_INTERVAL_MS}, ` +
        `KAFKA_MAX_WAIT_MS=${env.KAFKA_MAX_WAIT_MS} (the defaults); ` +
        `${readers.length * PEOPLE_PER_WORKER} people read by ${readers.length} social workers\n`,
    );
    const transports: ('postgres' | 'kafka')[] = ['postgres'];
    if (kcatInstalled()) transports.push('kafka');
    else skipped.push('kcat not installed: the Kafka half was skipped (apt-get install kcat)');
    for (const transport of transports) {
      const admin = new Client({ connectionString: pg.url() });
      await admin.connect();
      await admin.query(`CREATE DATABASE e2e_${transport}`);
      await admin.end();
      const url = pg.url(`e2e_${transport}`);
      let mock: KafkaMock | undefined;
      let system: RunningSystem | undefined;
      try {
        if (transport === 'kafka') mock = await startKafkaMock();
        system = await startSystem({ databaseUrl: url, kafkaBrokers: mock?.brokers, env });
        results.push(await measureTransport(system, url, readers, housingPeople));
      } finally {
        await system?.stop();
        await mock?.stop();
      }
    }
    const after = await helloWorldRun(echoRequests);
    report(before, after, results, skipped);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// One transport

interface Reader {
  userId: string;
  people: string[];
}

interface Distribution {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

interface EnforcementPhase {
  /** Withdrawal answered -> the first decision that denies `consent-withdrawn` was taken. */
  enforced: Distribution;
  /** Withdrawal answered -> that denial's answer reached the client. */
  answered: Distribution;
  /** Withdrawal answered -> the gateway's consumer transaction applying it began. */
  replica: Distribution;
  /** On Kafka: withdrawal answered -> the consent service's relay transaction sending it began. */
  relayed: Distribution;
  /** Grant answered -> the first permitting decision was taken. */
  granted: Distribution;
  timedOut: number;
  /** Decisions denied `consent-state-stale` while waiting (fail closed, not enforcement). */
  staleAnswers: number;
}

interface TransportResult {
  transport: 'postgres' | 'kafka';
  load: LoadResult;
  loadSummary: { p50: number; p99: number };
  /** Record reads sent after the measured run to keep the load on until the cycles ended. */
  extraReads: number;
  idle: EnforcementPhase;
  loaded: EnforcementPhase;
  auditIdle: AuditLag;
  auditLoaded: AuditLag;
  /** Age of the oldest open transaction holding a transaction id, sampled through each phase. */
  writerIdle: Distribution;
  writerLoaded: Distribution;
}

interface AuditLag {
  lag: Distribution;
  missing: number;
}

async function measureTransport(
  system: RunningSystem,
  url: string,
  readers: Reader[],
  housingPeople: string[],
): Promise<TransportResult> {
  const tokens = new Tokens(system);
  await seedReferenceData(system, tokens, readers, housingPeople);
  await waitUntilServing(system, tokens, readers[0], housingPeople[housingPeople.length - 1]);

  const audit = new AuditWatch(url);
  await audit.start();
  const writers = new OldestWriterWatch(url);
  await writers.start();
  // The cycles in flight read the gateway's times at once: a small pool, not one client.
  const db = new Pool({ connectionString: url, max: CYCLES_IN_FLIGHT });
  try {
    const idleProbes = startProbes(system, tokens, readers);
    const idle = await enforcementPhase(system, tokens, db, housingPeople.slice(0, WITHDRAWALS));
    const auditIdle = await audit.lags(await idleProbes.stop());
    const writerIdle = writers.take();

    const reads = recordReads(readers, (userId) => tokens.reader(userId), MEASURED_REQUESTS);
    const gatewayPort = Number(new URL(system.url('sharing-gateway')).port);
    const warmUp = await runLoad(gatewayPort, reads.slice(0, WARM_UP_REQUESTS), CONCURRENCY, 200);
    if (warmUp.failures > 0) {
      throw new Error(`${warmUp.failures} warm-up reads failed, first: ${warmUp.firstFailure}`);
    }
    const loadedProbes = startProbes(system, tokens, readers);
    let cyclesDone = false;
    const cycles = enforcementPhase(
      system,
      tokens,
      db,
      housingPeople.slice(WITHDRAWALS, 2 * WITHDRAWALS),
    ).finally(() => (cyclesDone = true));
    const load = await runLoad(gatewayPort, reads, CONCURRENCY, 200);
    // The load stays on until the last withdrawal is enforced, so every cycle ran under it.
    let extraReads = 0;
    while (!cyclesDone) {
      await runLoad(gatewayPort, reads.slice(0, EXTRA_LOAD_ROUND), CONCURRENCY, 200);
      extraReads += EXTRA_LOAD_ROUND;
    }
    const loaded = await cycles;
    const writerLoaded = writers.take();
    const auditLoaded = await audit.lags(await loadedProbes.stop());
    if (auditIdle.missing + auditLoaded.missing > 0) {
      // Say why rather than only that: the audit service logs identifiers and errors only.
      process.stderr.write(
        `audit entries missing; the audit service's last output:\n` +
          `${system.output('audit-service').slice(-2000)}\n`,
      );
    }
    return {
      transport: system.transport,
      load,
      loadSummary: summary(load.latenciesMs),
      extraReads,
      idle,
      loaded,
      auditIdle,
      auditLoaded,
      writerIdle,
      writerLoaded,
    };
  } finally {
    await db.end();
    await writers.stop();
    await audit.stop();
  }
}

/** Signs each principal's token once (signing reads the key pair from disk). */
class Tokens {
  private readonly cache = new Map<string, string>();
  constructor(private readonly system: RunningSystem) {}

  private get(sub: string, org: string, roles: Role[]): string {
    const key = `${sub}|${org}|${roles.join(',')}`;
    let token = this.cache.get(key);
    if (!token) {
      token = this.system.token({ sub, org, roles });
      this.cache.set(key, token);
    }
    return token;
  }

  admin = (): string => this.get('bench-admin', 'X26', ['admin', 'ig_officer']);
  reader = (userId: string): string => this.get(userId, 'X26', ['social_worker']);
  /** Records the housing consents; not a gateway user, the consent service needs none. */
  recorder = (): string => this.get('sw-recorder', 'X26', ['social_worker']);
  housing = (): string => this.get('housing-1', 'HOUSE1', ['practitioner']);
  person = (nhsNumber: string): string => this.get(nhsNumber, 'X26', ['service_user']);
}

function recordReads(
  readers: Reader[],
  token: (userId: string) => string,
  count: number,
): LoadRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const reader = readers[i % readers.length];
    const person = reader.people[Math.floor(i / readers.length) % reader.people.length];
    return {
      method: 'GET',
      path: `/v1/subjects/${person}/record?${RECORD_QUERY}`,
      headers: { authorization: `Bearer ${token(reader.userId)}` },
    };
  });
}

/**
 * Reference data through the gateway's API: a direct-care agreement (public task, no consent
 * needed) for the council's social workers, and a consent-based one for housing (journey 3 of
 * `npm run demo`), with a care relationship for every person each user asks about.
 */
async function seedReferenceData(
  system: RunningSystem,
  tokens: Tokens,
  readers: Reader[],
  housingPeople: string[],
): Promise<void> {
  const gateway = system.url('sharing-gateway');
  const admin = tokens.admin();
  await call('PUT', `${gateway}/v1/organisations/X26`, admin, 200, {
    name: 'Northshire County Council',
    kind: 'local-authority',
    country: 'GB',
  });
  await call('PUT', `${gateway}/v1/organisations/HOUSE1`, admin, 200, {
    name: 'Northshire Homes',
    kind: 'housing',
    country: 'GB',
  });
  const users: [string, string, Role[]][] = [
    ...readers.map((r): [string, string, Role[]] => [r.userId, 'X26', ['social_worker']]),
    ['housing-1', 'HOUSE1', ['practitioner']],
  ];
  await inParallel(users, 8, ([userId, org, roles]) =>
    call('PUT', `${gateway}/v1/users/${userId}`, admin, 200, {
      org,
      roles,
      teams: [],
      igTrainingCompletedOn: TODAY,
    }),
  );
  const agreement = {
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2030-01-01T00:00:00Z',
    status: 'active',
  };
  await call('POST', `${gateway}/v1/agreements`, admin, 201, {
    ...agreement,
    title: 'Direct care across adult social care',
    parties: ['kind:local-authority'],
    roles: ['social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan', 'assessments'],
    legalBasis: {
      article6: 'UK-GDPR-6-1-e',
      article9: 'UK-GDPR-9-2-h',
      statutes: ['hsc-sqa-2015-s251b'],
    },
  });
  await call('POST', `${gateway}/v1/agreements`, admin, 201, {
    ...agreement,
    title: 'Housing support, with the person’s consent',
    parties: ['HOUSE1'],
    roles: ['practitioner'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan'],
    legalBasis: { article6: 'UK-GDPR-6-1-a', statutes: [] },
  });
  const relationships = [
    ...readers.flatMap((r) => r.people.map((p) => [r.userId, p] as const)),
    ...housingPeople.map((p) => ['housing-1', p] as const),
  ];
  await inParallel(relationships, 8, ([userId, subjectId]) =>
    call('POST', `${gateway}/v1/relationships`, admin, 201, {
      userId,
      subjectId,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    }),
  );
}

/**
 * Until a record read is released and housing is denied `no-consent` (not `consent-state-stale`):
 * the gateway's consent replica has read its stream to the end (on Kafka, once the group joined).
 */
async function waitUntilServing(
  system: RunningSystem,
  tokens: Tokens,
  reader: Reader,
  unusedPerson: string,
): Promise<void> {
  const gateway = system.url('sharing-gateway');
  const deadline = Date.now() + 120_000;
  let last = '';
  for (;;) {
    const read = await request(
      'GET',
      `${gateway}/v1/subjects/${reader.people[0]}/record?${RECORD_QUERY}`,
      tokens.reader(reader.userId),
    );
    const decision = await decide(system, tokens, unusedPerson);
    if (read.status === 200 && reasonCodes(decision).includes('no-consent')) return;
    last = `record ${read.status}, housing ${JSON.stringify(decision).slice(0, 300)}`;
    if (Date.now() > deadline) throw new Error(`the system never served decisions: ${last}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// Withdrawal to enforcement

interface HousingDecision {
  decisionId: string;
  outcome: string;
  denied: { category: string; reasons: { code: string }[] }[];
}

const reasonCodes = (d: HousingDecision): string[] =>
  d.denied.flatMap((x) => x.reasons.map((r) => r.code));

async function decide(
  system: RunningSystem,
  tokens: Tokens,
  person: string,
): Promise<HousingDecision> {
  return (await call(
    'POST',
    `${system.url('sharing-gateway')}/v1/decisions`,
    tokens.housing(),
    200,
    { subjectId: person, ...HOUSING_ASK },
  )) as unknown as HousingDecision;
}

/** One grant -> permitted -> withdrawal -> denied cycle, in milliseconds from each answer. */
interface Cycle {
  grantedMs: number;
  enforcedMs: number;
  answeredMs: number;
  replicaMs: number;
  relayedMs: number;
  timedOut: number;
  staleAnswers: number;
}

/** Runs a grant -> permitted -> withdrawal -> denied cycle for each person, a few at a time. */
async function enforcementPhase(
  system: RunningSystem,
  tokens: Tokens,
  db: Pool,
  persons: string[],
): Promise<EnforcementPhase> {
  const cycles: Cycle[] = [];
  await inParallel(persons, CYCLES_IN_FLIGHT, async (person) => {
    cycles.push(await consentCycle(system, tokens, db, person));
  });
  return {
    enforced: distribution(cycles.map((c) => c.enforcedMs)),
    answered: distribution(cycles.map((c) => c.answeredMs)),
    replica: distribution(cycles.map((c) => c.replicaMs)),
    relayed: distribution(cycles.map((c) => c.relayedMs).filter(Number.isFinite)),
    granted: distribution(cycles.map((c) => c.grantedMs)),
    timedOut: cycles.reduce((sum, c) => sum + c.timedOut, 0),
    staleAnswers: cycles.reduce((sum, c) => sum + c.staleAnswers, 0),
  };
}

/**
 * Times are taken from the gateway's own records, on this machine's clock: a decision's
 * `decided_at` is the instant it read its facts (the consent replica included), and the
 * replica row's `updated_at` is when the consumer transaction that applied the withdrawal
 * began. So the lag is when the gateway first decided on the withdrawal, not when a client
 * happened to read that answer (reported beside it).
 */
async function consentCycle(
  system: RunningSystem,
  tokens: Tokens,
  db: Pool,
  person: string,
): Promise<Cycle> {
  const consent = system.url('consent-service');
  const grant = await call(
    'POST',
    `${consent}/v1/subjects/${person}/consents`,
    tokens.recorder(),
    201,
    {
      decision: 'granted',
      purposes: ['direct-care'],
      recipients: ['HOUSE1'],
      dataCategories: ['care-plan'],
      capture: { method: 'verbal', givenBy: 'subject', capacity: 'has-capacity' },
    },
  );
  const grantAnswered = Date.now();
  const permitted = await decideUntil(system, tokens, person, (d) => d.outcome === 'permit');
  // Withdrawing the moment the grant is seen would always land just after the consumer that
  // applied it went back to waiting, the worst moment on either transport; people do not time
  // it so.
  await sleep(Math.random() * WITHDRAWAL_PAUSE_MAX_MS);
  await call(
    'POST',
    `${consent}/v1/subjects/${person}/consents/${String(grant.consentId)}/withdrawal`,
    tokens.person(person),
    200,
    { reason: 'No longer wants housing to see the care plan' },
  );
  const withdrawalAnswered = Date.now();
  const withdrawalAnsweredPerf = performance.now();
  const denied = await decideUntil(
    system,
    tokens,
    person,
    (d) => d.outcome === 'deny' && reasonCodes(d).includes('consent-withdrawn'),
  );
  const { rows } = await db.query<{
    permitted: string;
    denied: string;
    applied: string;
    relayed: string | null;
  }>(
    `SELECT (SELECT extract(epoch FROM min(decided_at)) * 1000 FROM gateway.decisions
              WHERE decision_id = ANY($1::uuid[])) AS permitted,
            (SELECT extract(epoch FROM min(decided_at)) * 1000 FROM gateway.decisions
              WHERE decision_id = ANY($2::uuid[])) AS denied,
            (SELECT extract(epoch FROM updated_at) * 1000 FROM gateway.consent_replica
              WHERE subject_id = $3) AS applied,
            (SELECT extract(epoch FROM max(published_at)) * 1000 FROM consent.outbox
              WHERE stream_id = 'subject-' || $3 AND type = 'consent.withdrawn.v1') AS relayed`,
    [permitted.decisionIds, denied.decisionIds, person],
  );
  const at = rows[0];
  const timedOut = Number(permitted.timedOut) + Number(denied.timedOut);
  return {
    grantedMs: permitted.timedOut ? ENFORCEMENT_TIMEOUT_MS : Number(at.permitted) - grantAnswered,
    enforcedMs: denied.timedOut ? ENFORCEMENT_TIMEOUT_MS : Number(at.denied) - withdrawalAnswered,
    answeredMs: denied.at - withdrawalAnsweredPerf,
    replicaMs: Number(at.applied) - withdrawalAnswered,
    relayedMs: at.relayed === null ? NaN : Number(at.relayed) - withdrawalAnswered,
    timedOut,
    staleAnswers: permitted.staleAnswers + denied.staleAnswers,
  };
}

/**
 * Asks every DECISION_POLL_GAP_MS, with up to POLLS_IN_FLIGHT asks out at once, until a
 * decision is the one expected, then lets the asks still out finish. Asking only after each
 * answer would find a change no sooner than one decision's latency after it, which under load
 * would be most of the figure. `at` is when the first expected answer arrived; `decisionIds`
 * are all the expected decisions (the earliest taken is not always the first answered).
 */
async function decideUntil(
  system: RunningSystem,
  tokens: Tokens,
  person: string,
  expected: (d: HousingDecision) => boolean,
): Promise<{ at: number; decisionIds: string[]; timedOut: boolean; staleAnswers: number }> {
  const started = performance.now();
  const state = { at: null as number | null, failure: null as unknown, staleAnswers: 0 };
  const decisionIds: string[] = [];
  const outstanding = new Set<Promise<void>>();
  while (
    state.at === null &&
    state.failure === null &&
    performance.now() - started <= ENFORCEMENT_TIMEOUT_MS
  ) {
    if (outstanding.size < POLLS_IN_FLIGHT) {
      const ask = decide(system, tokens, person).then(
        (decision) => {
          if (expected(decision)) {
            decisionIds.push(decision.decisionId);
            state.at ??= performance.now();
          } else if (reasonCodes(decision).includes('consent-state-stale')) {
            state.staleAnswers++;
          }
        },
        (error: unknown) => {
          state.failure ??= error;
        },
      );
      outstanding.add(ask);
      void ask.finally(() => outstanding.delete(ask));
    }
    await sleep(DECISION_POLL_GAP_MS);
  }
  await Promise.all([...outstanding]);
  if (state.failure !== null) throw state.failure;
  return state.at === null
    ? {
        at: started + ENFORCEMENT_TIMEOUT_MS,
        decisionIds,
        timedOut: true,
        staleAnswers: state.staleAnswers,
      }
    : { at: state.at, decisionIds, timedOut: false, staleAnswers: state.staleAnswers };
}

// ---------------------------------------------------------------------------------------------
// Audit ingestion

/** Sends one audited record read every AUDIT_PROBE_INTERVAL_MS; stop() gives their answers. */
function startProbes(
  system: RunningSystem,
  tokens: Tokens,
  readers: Reader[],
): { stop: () => Promise<Map<string, number>> } {
  const answered = new Map<string, number>();
  let stopped = false;
  let n = 0;
  const loop = (async () => {
    while (!stopped) {
      const reader = readers[n % readers.length];
      const person = reader.people[n++ % reader.people.length];
      const read = await request(
        'GET',
        `${system.url('sharing-gateway')}/v1/subjects/${person}/record?${RECORD_QUERY}`,
        tokens.reader(reader.userId),
      );
      const at = performance.now();
      if (read.status === 200 && typeof read.body.decisionId === 'string') {
        answered.set(read.body.decisionId, at);
      }
      await sleep(AUDIT_PROBE_INTERVAL_MS);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return answered;
    },
  };
}

/** Asks the database something every AUDIT_POLL_MS on a connection of its own, until stopped. */
abstract class DatabaseWatch {
  protected readonly db: Client;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();

  constructor(url: string) {
    this.db = new Client({ connectionString: url });
  }

  async start(): Promise<void> {
    await this.db.connect();
    const tick = (): void => {
      this.polling = this.poll().then(() => {
        if (this.timer) this.timer = setTimeout(tick, AUDIT_POLL_MS);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  protected abstract poll(): Promise<void>;

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.db.end();
  }
}

/**
 * Reads the audit log as it grows (by sequence number: the chain lock makes entries commit in
 * order, so none is skipped) and notes when each decision's entry was first seen.
 */
class AuditWatch extends DatabaseWatch {
  private readonly seen = new Map<string, number>();
  private lastSeq = 0;

  protected async poll(): Promise<void> {
    const { rows } = await this.db.query<{ seq: string; decision_id: string | null }>(
      `SELECT seq, entry->'details'->>'decisionId' AS decision_id
         FROM audit.entries WHERE seq > $1 ORDER BY seq LIMIT 20000`,
      [this.lastSeq],
    );
    const at = performance.now();
    for (const row of rows) {
      if (row.decision_id && !this.seen.has(row.decision_id)) this.seen.set(row.decision_id, at);
      this.lastSeq = Number(row.seq);
    }
  }

  /** Waits until every answered decision is in the log (or the drain timeout) and times each. */
  async lags(answered: Map<string, number>): Promise<AuditLag> {
    const deadline = Date.now() + AUDIT_DRAIN_TIMEOUT_MS;
    const pending = () => [...answered.keys()].filter((id) => !this.seen.has(id));
    while (pending().length > 0 && Date.now() < deadline) await sleep(AUDIT_POLL_MS);
    const lags: number[] = [];
    for (const [id, at] of answered) {
      const seen = this.seen.get(id);
      // Seen before the answer was read: the entry beat the response to the client.
      if (seen !== undefined) lags.push(Math.max(0, seen - at));
    }
    return { lag: distribution(lags), missing: pending().length };
  }
}

/**
 * Samples how long the oldest open transaction holding a transaction id has been open. Outbox
 * readers (PostgreSQL consumers and Kafka relays) take nothing committed by a transaction that
 * began after it until it ends, so its age is how long any event can be held back for.
 */
class OldestWriterWatch extends DatabaseWatch {
  private samples: number[] = [];

  protected async poll(): Promise<void> {
    const { rows } = await this.db.query<{ age: string }>(
      `SELECT coalesce(extract(epoch FROM clock_timestamp() - min(xact_start)) * 1000, 0) AS age
         FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()`,
    );
    this.samples.push(Number(rows[0].age));
  }

  /** The samples since the last call. */
  take(): Distribution {
    const taken = distribution(this.samples);
    this.samples = [];
    return taken;
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline

const HELLO_WORLD = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end('{"hello":"world"}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** Bare node:http hello-world in its own process (as each service is), warmed up and measured. */
async function helloWorldRun(requests: LoadRequest[]): Promise<LoadResult> {
  const child = spawn(process.execPath, ['-e', HELLO_WORLD], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`hello-world exited with ${code}`)));
    });
    await runLoad(port, requests.slice(0, WARM_UP_REQUESTS), CONCURRENCY, 200);
    const result = await runLoad(port, requests, CONCURRENCY, 200);
    if (result.failures > 0) throw new Error(`hello-world failed: ${result.firstFailure}`);
    return result;
  } finally {
    await stopChild(child);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------------------------
// Report

function report(
  before: LoadResult,
  after: LoadResult,
  results: TransportResult[],
  skipped: string[],
): void {
  const baselineRate = (before.perSecond + after.perSecond) / 2;
  const base = summary(Float64Array.from([...before.latenciesMs, ...after.latenciesMs]));
  const out: string[] = [
    `${`baseline: bare node:http hello-world (${CONCURRENCY} in flight)`.padEnd(60)} ` +
      `${rate(baselineRate)} req/s   ratio 1.00   p50 ${ms(base.p50)}  p99 ${ms(base.p99)}   ` +
      `(before ${Math.round(before.perSecond)}, after ${Math.round(after.perSecond)})`,
  ];
  const transportName = (t: TransportResult['transport']) =>
    t === 'kafka' ? 'kafka (kcat mock)' : 'postgres outbox';
  for (const r of results) {
    const name = transportName(r.transport);
    const non200 = [...r.load.statuses].filter(([s]) => s !== 200);
    out.push(
      `${`${name}: record reads, all services, ${CONCURRENCY} in flight`.padEnd(60)} ` +
        `${rate(r.load.perSecond)} req/s   ratio ${(r.load.perSecond / baselineRate).toFixed(2)}   ` +
        `p50 ${ms(r.loadSummary.p50)}  p99 ${ms(r.loadSummary.p99)}   ` +
        `(${MEASURED_REQUESTS} reads${non200.length > 0 ? `, NOT 200: ${non200.map(([s, n]) => `${n} x ${s}`).join(', ')}` : ', all 200'}` +
        `${r.extraReads > 0 ? `; ${r.extraReads} more until the cycles ended` : ''})`,
    );
    for (const [phase, e] of [
      ['idle', r.idle],
      ['under record load', r.loaded],
    ] as const) {
      out.push(
        `${`${name}: withdrawal -> enforced, ${phase}`.padEnd(60)} ${lagLine(e.enforced)}`,
        ...(e.relayed.n > 0
          ? [`${'    of which: relay began sending it to Kafka'.padEnd(60)} ${lagLine(e.relayed)}`]
          : []),
        `${'    of which: replica consumer began applying it'.padEnd(60)} ${lagLine(e.replica)}`,
        `${'    until the client read the first denial'.padEnd(60)} ${lagLine(e.answered)}`,
        `${'    oldest open writing transaction, sampled'.padEnd(60)} ${lagLine(phase === 'idle' ? r.writerIdle : r.writerLoaded)}`,
        `${'    grant -> first permit'.padEnd(60)} ${lagLine(e.granted)}` +
          `${e.timedOut > 0 ? `   (${e.timedOut} TIMED OUT after ${ENFORCEMENT_TIMEOUT_MS} ms)` : ''}` +
          `${e.staleAnswers > 0 ? `   (${e.staleAnswers} consent-state-stale answers)` : ''}`,
      );
    }
    for (const [phase, a] of [
      ['idle', r.auditIdle],
      ['under record load', r.auditLoaded],
    ] as const) {
      out.push(
        `${`${name}: decision answered -> in audit log, ${phase}`.padEnd(60)} ${lagLine(a.lag)}` +
          `${a.missing > 0 ? `   (${a.missing} MISSING after ${AUDIT_DRAIN_TIMEOUT_MS} ms)` : ''}`,
      );
    }
  }
  if (results.some((r) => r.transport === 'kafka')) {
    out.push(
      `(the kcat mock holds a fetch that found nothing for the whole KAFKA_MAX_WAIT_MS, even when ` +
        `a message arrives meanwhile; a real broker answers it at once, so each Kafka hop here ` +
        `can carry up to that much more than it would in production)`,
    );
  }
  out.push(...skipped);
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  out.push(
    `target: withdrawal -> enforced p99 <= ${TARGET_ENFORCEMENT_P99_MS} ms on both transports: ` +
      results
        .map((r) => {
          const worst = Math.max(r.idle.enforced.p99, r.loaded.enforced.p99);
          const ok =
            worst <= TARGET_ENFORCEMENT_P99_MS && r.idle.timedOut + r.loaded.timedOut === 0;
          return `${transportName(r.transport)} ${met(ok)}`;
        })
        .join(', ') +
      (results.length < 2 ? ' (Kafka not measured)' : '') +
      ` (as the client saw it, first denial read: ${results
        .map(
          (r) =>
            `${transportName(r.transport)} p99 ${Math.max(r.idle.answered.p99, r.loaded.answered.p99).toFixed(0)} ms`,
        )
        .join(', ')})`,
    `(lags: ${WITHDRAWALS} cycles per phase, ${CYCLES_IN_FLIGHT} people at a time, each withdrawn 0-${WITHDRAWAL_PAUSE_MAX_MS} ms after its grant was seen; decisions asked ` +
      `every ${DECISION_POLL_GAP_MS} ms (${POLLS_IN_FLIGHT} at most unanswered); audit probes every ${AUDIT_PROBE_INTERVAL_MS} ms, log read ` +
      `every ${AUDIT_POLL_MS} ms)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Small things

async function request(
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function call(
  method: string,
  url: string,
  bearer: string,
  expectStatus: number,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const answer = await request(method, url, bearer, body);
  if (answer.status !== expectStatus) {
    throw new Error(
      `${method} ${url} answered ${answer.status}, not ${expectStatus}: ` +
        JSON.stringify(answer.body).slice(0, 500),
    );
  }
  return answer.body;
}

async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const sleep = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function summary(latenciesMs: Float64Array): { p50: number; p99: number } {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

function distribution(values: number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: sorted.length ? percentile(sorted, 0.5) : NaN,
    p99: sorted.length ? percentile(sorted, 0.99) : NaN,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

const lagLine = (d: Distribution) =>
  `p50 ${ms(d.p50)}  p99 ${ms(d.p99)}  max ${ms(d.max)}  (n = ${d.n})`;
const rate = (n: number) => Math.round(n).toString().padStart(8);
const ms = (n: number) => `${n.toFixed(1).padStart(6)} ms`;
