import { startSystem, type RunningSystem, type ServiceName } from '../support/system';
import {
  checkLedger,
  expectAuditLogIntact,
  NO_LEDGER_PROBLEMS,
  FAULTS,
  FAULTS_TIMEOUT_MS,
  permitReading,
  report,
  sleep,
  startRecordLoad,
  tally,
  waitForAuditLog,
  type LoadRun,
} from './fault-harness';

jest.setTimeout(FAULTS_TIMEOUT_MS);

/** How many kills land during the load (gateway and audit service, at random moments). */
const KILLS = Number(process.env.FAULTS_KILLS ?? 4);

describe('SIGKILL of the gateway and the audit service under load', () => {
  let system: RunningSystem;
  let load: LoadRun;
  const kills: { service: ServiceName; atMs: number; restartMs: number }[] = [];

  beforeAll(async () => {
    system = await startSystem();
    const { people, token } = await permitReading(system, 50);
    const port = (): number => Number(new URL(system.url('sharing-gateway')).port);
    const started = startRecordLoad(port, token, people, { retryRefused: true });
    const t0 = Date.now();
    // Kills at random moments within the load's span, each service at least once: one in each
    // equal slot of the span, in the first half of the slot, so a restart is normally over
    // before that service's next kill. A restart is not awaited before the other service's
    // kill, so both are sometimes down together.
    const spanMs = FAULTS.loadSeconds * 1000;
    const plan: { service: ServiceName; atMs: number }[] = [];
    for (const [service, count] of [
      ['sharing-gateway', Math.ceil(KILLS / 2)],
      ['audit-service', Math.floor(KILLS / 2)],
    ] as const) {
      for (let j = 0; j < count; j++) {
        plan.push({ service, atMs: spanMs * (0.05 + (0.8 * (j + Math.random() * 0.5)) / count) });
      }
    }
    plan.sort((a, b) => a.atMs - b.atMs);
    const restarting = new Map<ServiceName, Promise<void>>();
    for (const { service, atMs } of plan) {
      await sleep(Math.max(0, t0 + atMs - Date.now()));
      await restarting.get(service); // a service that is still restarting cannot be killed
      const killedAt = Date.now() - t0;
      await system.kill(service, 'SIGKILL');
      restarting.set(
        service,
        (async () => {
          const down = Date.now();
          await system.start(service, 120_000);
          kills.push({ service, atMs: killedAt, restartMs: Date.now() - down });
        })(),
      );
    }
    await Promise.all(restarting.values());
    load = await started.run;
    await waitForAuditLog(system.databaseUrl);
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('killed and restarted both services mid-load', () => {
    report('service-kills', {
      requests: load.outcomes.length,
      seconds: (load.endedAt - load.startedAt) / 1000,
      statuses: tally(load.outcomes),
      refusedAttemptsRetried: load.refusedAttempts,
      kills,
    });
    expect(kills.map((k) => k.service)).toEqual(
      expect.arrayContaining(['sharing-gateway', 'audit-service']),
    );
    expect(kills).toHaveLength(KILLS);
    expect(kills.every((k) => k.atMs < load.endedAt - load.startedAt)).toBe(true);
  });

  it('answered with data, and otherwise only 503, a dropped connection, or a fail-closed stale denial just after a gateway restart', () => {
    const statuses = tally(load.outcomes);
    const unexpected = Object.keys(statuses).filter(
      (s) => !['200', '403', '503'].includes(s) && !s.startsWith('0:'),
    );
    expect(unexpected.map((s) => `${s} x${statuses[s]}`)).toEqual([]);
    // A restarted gateway takes requests as soon as it listens, and its consent replica was last
    // known fresh before the kill: until its consumer has read once it denies rather than guess.
    const restarts = kills.filter((k) => k.service === 'sharing-gateway');
    for (const o of load.outcomes.filter((x) => x.status === 403)) {
      const sent = o.sentAt - load.startedAt;
      expect({ sent, body: o.body }).toMatchObject({
        body: expect.stringContaining('consent-state-stale'),
      });
      expect(restarts.some((k) => sent >= k.atMs && sent <= k.atMs + k.restartMs + 5000)).toBe(
        true,
      );
    }
    const withData = load.outcomes.filter((o) => o.status === 200 && o.carriedData);
    // Refused connections are sent again, so most requests end with an answer; the rest are
    // requests in flight when the gateway died (a reset connection is not retried).
    expect(withData.length).toBeGreaterThan(load.outcomes.length / 2);
    expect(load.outcomes.filter((o) => o.status === 200 && !o.decisionId)).toEqual([]);
  });

  it('every 200 with data has exactly one decision, one decision event and one audit entry; no entry twice', async () => {
    const permitted = load.outcomes
      .filter((o) => o.status === 200 && o.carriedData)
      .map((o) => o.decisionId!);
    expect(new Set(permitted).size).toBe(permitted.length);
    expect(await checkLedger(system.databaseUrl, permitted)).toEqual(NO_LEDGER_PROBLEMS);
  });

  it('audit:verify passes', () => expectAuditLogIntact(system));
});
