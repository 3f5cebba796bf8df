// `npm run soak`: the fault suite (test/faults) for longer. The same three scenarios (SIGKILL of
// the gateway and the audit service, PostgreSQL stopped for 5 s, the Kafka cluster replaced),
// with more requests spread over more minutes and the faults repeated, printing the load's
// progress. The suite is run through jest (scripts may not import the test harness); the
// knobs below become its FAULTS_* environment variables.
//
//   SOAK_REQUESTS  record requests per scenario (default 20000)
//   SOAK_MINUTES   how long each scenario's load lasts (default 5)
//   SOAK_ONLY      a file name filter, e.g. postgres-outage (default: all three)
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function positive(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`${name} must be a positive number, not "${text}"\n`);
    process.exit(2);
  }
  return value;
}

const requests = Math.round(positive('SOAK_REQUESTS', 20_000));
const minutes = positive('SOAK_MINUTES', 5);
const seconds = Math.round(minutes * 60);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  FAULTS_REQUESTS: String(requests),
  FAULTS_LOAD_SECONDS: String(seconds),
  // A kill about every 10 s, an outage and a cluster replacement about every 40 s.
  FAULTS_KILLS: String(Math.max(4, Math.round(seconds / 10))),
  FAULTS_OUTAGES: String(Math.max(1, Math.round(seconds / 40))),
  FAULTS_CLUSTER_RESTARTS: String(Math.max(1, Math.round(seconds / 40))),
  FAULTS_CATCH_UP_MS: String(Math.max(120_000, requests * 30)),
  FAULTS_PROGRESS: '1',
  CI: process.env.CI ?? 'true', // the Kafka scenario must run, not skip
};

const target = `test/faults/${process.env.SOAK_ONLY ?? ''}`;
process.stdout.write(
  `soak: ${requests} requests over ${minutes} min per scenario, ${env.FAULTS_KILLS} kills, ` +
    `${env.FAULTS_OUTAGES} PostgreSQL outages, ${env.FAULTS_CLUSTER_RESTARTS} Kafka cluster replacements (${target})\n`,
);
const started = Date.now();
const jest = spawn(
  process.execPath,
  [require.resolve('jest/bin/jest', { paths: [ROOT] }), '--runInBand', '--ci', target],
  { cwd: ROOT, env, stdio: 'inherit' },
);
jest.on('exit', (code, signal) => {
  const took = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `soak ${code === 0 ? 'passed' : 'FAILED'} after ${took} min${signal ? ` (${signal})` : ''}\n`,
  );
  process.exit(code ?? 1);
});
