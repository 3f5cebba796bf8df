import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  createServiceDataSource,
  ensureLocalKeyPair,
  nhsNumbers,
  runMigrations,
  signLocalToken,
} from '#common';
import { ConsentServiceDefinition } from '../apps/consent-service/src/consent-service.definition';
import { rebuildProjection } from '../apps/consent-service/src/consent/stream/rebuild-projection';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { helloWorldRate, runLoad } from './http-load';
import { postgresCpu, procStat } from './process-cpu';

const PEOPLE = 1000;
const CONCURRENCY = 32;
const ROUNDS = 4;
const REBUILD_EVENTS = 200_000;
const EVENTS_PER_PERSON = 10;

/**
 * Command throughput of the consent service (a real process, embedded PostgreSQL) against bare
 * node:http, and projection rebuild speed against a plain SELECT of the same rows.
 */
export async function runConsentBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'care-ledger-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const admin = new Client({ connectionString: pg.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE consent_bench');
  await admin.end();
  const url = pg.url('consent_bench');
  const ds = createServiceDataSource({
    url,
    schema: 'consent',
    migrations: ConsentServiceDefinition.migrations,
    poolSize: 4,
  });
  await runMigrations(ds, 'consent');
  let service: ChildProcess | null = null;
  try {
    const port = await freePort();
    service = await startService(url, port, dir);
    const token = signLocalToken(ensureLocalKeyPair(dir), {
      sub: 'bench',
      org: 'X26',
      roles: ['social_worker'],
      teams: [],
      expiresIn: '1h',
    });
    const people = nhsNumbers(PEOPLE, 300000000);
    const body = JSON.stringify({
      decision: 'granted',
      purposes: ['direct-care'],
      recipients: ['kind:nhs-trust'],
      dataCategories: ['care-plan', 'assessments'],
      capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
    });
    const grant = (subject: string) => ({
      method: 'POST',
      path: `/v1/subjects/${subject}/consents`,
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    await runLoad(port, people.slice(0, 50).map(grant), 8, 201); // warm-up
    // Baseline and commands take turns in rounds, so both see the same share of a shared
    // machine; each rate is its requests over its own summed time.
    const commandRequests = [...people, ...people].map(grant);
    const perRound = commandRequests.length / ROUNDS;
    const pgDataDir = join(dir, 'data');
    let baselineSeconds = 0;
    let commandSeconds = 0;
    let serviceCpu = 0;
    let postgresUsed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      baselineSeconds += perRound / (await helloWorldRate(perRound, CONCURRENCY));
      const serviceBefore = procStat(service.pid ?? 0)?.cpu ?? 0;
      const postgresBefore = postgresCpu(pgDataDir);
      const commands = await runLoad(
        port,
        commandRequests.slice(round * perRound, (round + 1) * perRound),
        CONCURRENCY,
        201,
      );
      serviceCpu += (procStat(service.pid ?? 0)?.cpu ?? 0) - serviceBefore;
      for (const [pid, cpu] of postgresCpu(pgDataDir))
        postgresUsed += cpu - (postgresBefore.get(pid) ?? 0);
      if (commands.failures > 0)
        throw new Error(`${commands.failures} commands failed, first: ${commands.firstFailure}`);
      commandSeconds += perRound / commands.perSecond;
    }
    const baseline = commandRequests.length / baselineSeconds;
    line(
      `baseline: bare node:http hello-world (${CONCURRENCY} in flight)`,
      baseline,
      baseline,
      'req/s',
    );
    line(
      `grant consent, ${PEOPLE} people x 2, ${CONCURRENCY} in flight`,
      commandRequests.length / commandSeconds,
      baseline,
      'commands/s',
    );
    process.stdout.write(
      `  (${ROUNDS} rounds of each, taking turns) CPU per command: consent service ${Math.round((serviceCpu * 1e6) / commandRequests.length)} µs, PostgreSQL ${Math.round((postgresUsed * 1e6) / commandRequests.length)} µs\n`,
    );
  } finally {
    service?.kill('SIGTERM');
  }

  await ds.initialize();
  await seedEvents(ds);
  // The baseline is read before and after the rebuild, so a change in the machine's load
  // during the run weighs on both figures alike.
  const selectBefore = await plainSelectRate(ds);
  const started = process.hrtime.bigint();
  const result = await rebuildProjection(ds);
  const rebuildRate = result.events / (Number(process.hrtime.bigint() - started) / 1e9);
  const selectAfter = await plainSelectRate(ds);
  const selectRate = 2 / (1 / selectBefore + 1 / selectAfter);
  line(
    `baseline: plain SELECT of the ${REBUILD_EVENTS.toLocaleString('en-GB')} events`,
    selectRate,
    selectRate,
    'rows/s',
  );
  line(
    `rebuild projection (${result.events.toLocaleString('en-GB')} events, ${result.subjects} people)`,
    rebuildRate,
    selectRate,
    'events/s',
  );
  await ds.destroy();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function startService(url: string, port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(__dirname, '..', 'apps', 'consent-service', 'src', 'main.js')],
    {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        DB_POOL_SIZE: '20',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return child;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('consent service did not become ready');
}

/** 200,000 realistic events: per person a grant, an objection, decisions, opt-out changes. */
async function seedEvents(ds: import('typeorm').DataSource): Promise<void> {
  await ds.query(`TRUNCATE consent.subject_states, consent.record_index`);
  await ds.query(`ALTER TABLE consent.events DISABLE TRIGGER events_no_truncate`);
  await ds.query(`TRUNCATE consent.events`);
  await ds.query(`ALTER TABLE consent.events ENABLE TRIGGER events_no_truncate`);
  const people = REBUILD_EVENTS / EVENTS_PER_PERSON;
  await ds.query(
    `INSERT INTO consent.events (event_id, stream_id, stream_position, type, data, metadata, recorded_at)
     SELECT gen_random_uuid(), 'p' || lpad(p::text, 9, '0'), n,
            CASE WHEN n % 5 = 0 THEN 'national-opt-out.set.v1' ELSE 'consent.granted.v1' END,
            CASE WHEN n % 5 = 0 THEN '{}'::jsonb ELSE jsonb_build_object(
              'consentId', gen_random_uuid(), 'purposes', '["direct-care"]'::jsonb,
              'recipients', '["kind:nhs-trust","kind:local-authority"]'::jsonb,
              'dataCategories', '["care-plan","assessments"]'::jsonb,
              'validFrom', '2026-01-01T00:00:00.000Z', 'validUntil', null,
              'capture', '{"method":"written","givenBy":"subject","capacity":"has-capacity"}'::jsonb,
              'evidenceRef', null, 'notes', null) END,
            '{"actor":{"userId":"sw-1","org":"X26","role":"social_worker"},"correlationId":"c","causationId":null}'::jsonb,
            now()
       FROM generate_series(1, $1) AS p, generate_series(1, $2) AS n`,
    [people, EVENTS_PER_PERSON],
  );
}

async function plainSelectRate(ds: import('typeorm').DataSource): Promise<number> {
  const started = process.hrtime.bigint();
  let after: [string, number] = ['', 0];
  let n = 0;
  for (;;) {
    const rows: { stream_id: string; stream_position: number }[] = await ds.query(
      `SELECT stream_id, event_id, stream_position, type, data, metadata, recorded_at FROM consent.events
        WHERE (stream_id, stream_position) > ($1, $2) ORDER BY stream_id, stream_position LIMIT 10000`,
      after,
    );
    if (rows.length === 0) break;
    n += rows.length;
    after = [rows[rows.length - 1].stream_id, rows[rows.length - 1].stream_position];
  }
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

function line(label: string, rate: number, baseline: number, unit: string): void {
  process.stdout.write(
    `${label.padEnd(62)} ${Math.round(rate).toString().padStart(8)} ${unit.padEnd(10)} ratio to baseline ${(rate / baseline).toFixed(2)}\n`,
  );
}
