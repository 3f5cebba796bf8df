import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/embedded-postgres';
import { SERVICE_NAMES, startSystem, type RunningSystem } from '../support/system';
import {
  checkLedger,
  expectAuditLogIntact,
  NO_LEDGER_PROBLEMS,
  FAULTS,
  FAULTS_TIMEOUT_MS,
  OwnPostgres,
  permitReading,
  report,
  sleep,
  startRecordLoad,
  tally,
  waitForAuditLog,
  waitUntil,
  withClient,
  type LoadRun,
  type Outcome,
} from './fault-harness';

jest.setTimeout(FAULTS_TIMEOUT_MS);

const OUTAGE_MS = Number(process.env.FAULTS_OUTAGE_MS ?? 5000);
/** Outages during the load (one in CI; `npm run soak` repeats them). */
const OUTAGES = Number(process.env.FAULTS_OUTAGES ?? 1);

interface Window {
  /** Milliseconds from the load's start: stop asked, server down, start asked, server up. */
  stopping: number;
  stopped: number;
  restarting: number;
  restarted: number;
}

describe('PostgreSQL stopped for 5 s under load', () => {
  let dir: string;
  let pg: OwnPostgres;
  let system: RunningSystem;
  let load: LoadRun;
  let token: string;
  let people: string[];
  const pids = new Map<string, number | undefined>();
  const outages: Window[] = [];
  let during: Outcome[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'care-ledger-faults-pg-'));
    chmodSync(dir, 0o755); // as root the server runs as `postgres` and must reach its data
    pg = new OwnPostgres(join(dir, 'data'), await freePort());
    await pg.start();
    await withClient(pg.url(), (c) => c.query('CREATE DATABASE faults'));
    system = await startSystem({ databaseUrl: pg.url('faults') });
    for (const name of SERVICE_NAMES) pids.set(name, system.process(name)?.pid);
    ({ people, token } = await permitReading(system, 50));
    const port = (): number => Number(new URL(system.url('sharing-gateway')).port);
    const started = startRecordLoad(port, token, people);
    const t0 = Date.now();
    const spanMs = FAULTS.loadSeconds * 1000;
    for (let k = 0; k < OUTAGES; k++) {
      await sleep(Math.max(0, t0 + spanMs * (0.3 + (0.6 * k) / OUTAGES) - Date.now()));
      const w: Window = { stopping: Date.now() - t0, stopped: 0, restarting: 0, restarted: 0 };
      await pg.stop();
      w.stopped = Date.now() - t0;
      await sleep(OUTAGE_MS);
      w.restarting = Date.now() - t0;
      await pg.start();
      w.restarted = Date.now() - t0;
      outages.push(w);
    }
    load = await started.run;
    // Sent after the server was down and answered before it was asked to start again.
    during = load.outcomes.filter((o) =>
      outages.some((w) => o.sentAt - t0 >= w.stopped && o.answeredAt - t0 <= w.restarting),
    );
  });

  afterAll(async () => {
    await system?.stop();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('during the outage no request was answered with data: 503 (connection errors counted)', () => {
    report('postgres-outage', {
      requests: load.outcomes.length,
      seconds: (load.endedAt - load.startedAt) / 1000,
      outagesMs: outages,
      statuses: tally(load.outcomes),
      duringOutage: tally(during),
      // How long after each restart the consent replica still made the gateway deny.
      staleDenialsEndMsAfterRestart: outages.map((w, k) => {
        const until = k + 1 < outages.length ? outages[k + 1].stopping : Infinity;
        const answered = load.outcomes
          .filter((o) => o.status === 403 && o.answeredAt - load.startedAt < until)
          .map((o) => o.answeredAt - load.startedAt - w.restarted);
        return answered.length === 0 ? null : Math.max(...answered);
      }),
      otherAnswers: load.outcomes
        .filter((o) => o.status !== 200 && o.status !== 503)
        .slice(0, 3)
        .map((o) => `${o.sentAt - load.startedAt}ms ${o.status} ${o.body ?? o.error}`),
    });
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((o) => o.status === 200)).toEqual([]);
    const statuses = tally(during);
    expect(Object.keys(statuses).filter((s) => s !== '503' && !s.startsWith('0:'))).toEqual([]);
    // A 503 says nothing was released, in the contract's error shape.
    const refused = during.find((o) => o.status === 503);
    expect(JSON.parse(refused!.body!)).toMatchObject({
      statusCode: 503,
      error: 'DECISION_NOT_RECORDED',
      message: expect.stringContaining('nothing was released'),
    });
  });

  it('outside the outage: 200 with data, 503, or (just after it) a fail-closed consent-state-stale denial', () => {
    const statuses = tally(load.outcomes);
    expect(Object.keys(statuses).filter((s) => !['200', '503', '403'].includes(s))).toEqual([]);
    expect(load.outcomes.filter((o) => o.status === 200 && !o.carriedData)).toEqual([]);
    // The gateway's consent replica could not catch up while PostgreSQL was down, so for a
    // while after it returns it denies rather than rely on possibly stale consent state.
    const denied = load.outcomes.filter((o) => o.status === 403);
    for (const o of denied) {
      const sent = o.sentAt - load.startedAt;
      const answered = o.answeredAt - load.startedAt;
      expect({ sent, answered, body: o.body }).toMatchObject({
        body: expect.stringContaining('consent-state-stale'),
      });
      // ... and only from an outage until shortly after PostgreSQL was back.
      expect(outages.some((w) => sent >= w.stopping && answered <= w.restarted + 20_000)).toBe(
        true,
      );
    }
  });

  it('the services recovered by themselves: 200 again after the outage, same processes', async () => {
    const last = outages[outages.length - 1];
    const after = load.outcomes.filter(
      (o) => o.status === 200 && o.sentAt - load.startedAt > last.restarted,
    );
    expect(after.length).toBeGreaterThan(0);
    for (const name of SERVICE_NAMES) expect(system.process(name)?.pid).toBe(pids.get(name));
    for (const name of SERVICE_NAMES) {
      await waitUntil(`${name} ready`, 30_000, async () => {
        const response = await fetch(`${system.url(name)}/health/ready`);
        return response.ok
          ? null
          : `${response.status} ${await response.text()}\n${system.output(name).slice(-3000)}`;
      });
    }
  });

  it('nothing committed is lost: every 200 before and after has its decision, event and one audit entry', async () => {
    await waitForAuditLog(system.databaseUrl);
    const permitted = load.outcomes.filter((o) => o.status === 200).map((o) => o.decisionId!);
    const before = load.outcomes.filter(
      (o) => o.status === 200 && o.answeredAt - load.startedAt < outages[0].stopping,
    );
    expect(before.length).toBeGreaterThan(0);
    expect(await checkLedger(system.databaseUrl, permitted)).toEqual(NO_LEDGER_PROBLEMS);
  });

  it('audit:verify passes', () => expectAuditLogIntact(system));
});
