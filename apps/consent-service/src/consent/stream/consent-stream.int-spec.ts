import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, nhsNumbers, OutboxWriter, runMigrations, TOPICS } from '#common';
import { createTestDatabase } from '../../../../../test/support/test-database';
import { ConsentServiceDefinition } from '../../consent-service.definition';
import type { ConsentCommand } from '../domain/decide';
import { ConsentStreamService, type WriteContext } from './consent-stream.service';
import { replay } from '../domain/state';
import { rebuildProjection } from './rebuild-projection';

jest.setTimeout(120_000);

const scope = {
  purposes: ['direct-care' as const],
  recipients: ['kind:nhs-trust'],
  dataCategories: ['care-plan' as const],
};
const capture = {
  method: 'verbal' as const,
  givenBy: 'subject' as const,
  capacity: 'has-capacity' as const,
};
const context: WriteContext = {
  actor: { userId: 'sw-1', org: 'X26', role: 'social_worker' },
  correlationId: 'c-1',
  request: {},
};

/** A fresh database with the consent schema migrated, and a pool on it. */
async function migratedConsentDatabase(
  prefix: string,
  poolSize: number,
): Promise<{ url: string; ds: DataSource; drop: () => Promise<void> }> {
  const db = await createTestDatabase(prefix);
  const ds = createServiceDataSource({
    url: db.url,
    schema: 'consent',
    migrations: ConsentServiceDefinition.migrations,
    poolSize,
  });
  await runMigrations(ds, 'consent');
  await ds.initialize();
  return {
    url: db.url,
    ds,
    drop: async () => {
      await ds.destroy();
      await db.drop();
    },
  };
}

describe('consent projection rebuild', () => {
  let database: Awaited<ReturnType<typeof migratedConsentDatabase>>;
  let ds: DataSource;
  let stream: ConsentStreamService;

  beforeAll(async () => {
    database = await migratedConsentDatabase('consentrebuild', 5);
    ds = database.ds;
    stream = new ConsentStreamService(ds, new OutboxWriter('consent', TOPICS.consent));
    const subjects = nhsNumbers(40, 100000000);
    for (let i = 0; i < 40; i++) {
      const subject = subjects[i];
      const consentId = randomUUID();
      const objectionId = randomUUID();
      const commands: ConsentCommand[] = [
        {
          type: 'record-consent',
          consentId,
          decision: i % 4 ? 'granted' : 'refused',
          scope,
          validFrom: new Date().toISOString(),
          validUntil: null,
          capture,
          evidenceRef: null,
          notes: 'note',
        },
        { type: 'raise-objection', objectionId, scope, reason: 'no' },
        ...(i % 2 ? [{ type: 'withdraw-consent' as const, consentId, reason: 'changed' }] : []),
        ...(i % 3
          ? [
              {
                type: 'decide-objection' as const,
                objectionId,
                outcome: 'upheld' as const,
                reason: 'ok',
              },
            ]
          : []),
        { type: 'set-national-opt-out', optedOut: i % 5 === 0 },
      ];
      for (const command of commands) await stream.execute(subject, command, context, (v) => v);
    }
  });

  afterAll(() => database.drop());

  const snapshot = async () => ({
    states: await ds.query(
      `SELECT subject_id, stream_version, state FROM consent.subject_states ORDER BY subject_id`,
    ),
    index: await ds.query(
      `SELECT record_id, kind, subject_id FROM consent.record_index ORDER BY record_id`,
    ),
  });

  it('rebuilds a projection equal to the live one, reporting progress', async () => {
    const live = await snapshot();
    expect(live.states).toHaveLength(40);
    const progress: number[] = [];
    const result = await rebuildProjection(ds, (done) => progress.push(done));
    expect(result.subjects).toBe(40);
    expect(progress[progress.length - 1]).toBe(result.events);
    expect(await snapshot()).toEqual(live);
  });

  it('rebuilds from the command line (npm run consent:rebuild) with a progress bar', async () => {
    const live = await snapshot();
    await ds.query(`UPDATE consent.subject_states SET state = '{}'::jsonb`); // a damaged projection
    const run = spawnSync(
      process.execPath,
      [join(__dirname, '../../../../../dist/apps/consent-service/src/rebuild.js')],
      {
        env: { ...process.env, DATABASE_URL: database.url, DATA_DIR: '/tmp' },
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/\[#+\] 100% \d+\/\d+ events/);
    expect(run.stdout).toMatch(/rebuilt the consent projection: \d+ events, 40 people/);
    expect(await snapshot()).toEqual(live);
  });

  it('refuses to rewrite the log', async () => {
    await expect(ds.query(`UPDATE consent.events SET type = 'x'`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`DELETE FROM consent.events`)).rejects.toThrow(/append-only/);
  });
});

describe('commands written together', () => {
  let database: Awaited<ReturnType<typeof migratedConsentDatabase>>;
  let ds: DataSource;
  let stream: ConsentStreamService;

  beforeAll(async () => {
    database = await migratedConsentDatabase('consentgroup', 5);
    ds = database.ds;
    stream = new ConsentStreamService(ds, new OutboxWriter('consent', TOPICS.consent));
  });

  afterAll(() => database.drop());

  const grant = (consentId: string): ConsentCommand => ({
    type: 'record-consent',
    consentId,
    decision: 'granted',
    scope,
    validFrom: new Date().toISOString(),
    validUntil: null,
    capture,
    evidenceRef: null,
    notes: null,
  });

  it('answers each command on its own when one of them loses a race to another writer', async () => {
    const subjects = nhsNumbers(30, 200000000);
    // Another replica appended to the first person's stream; this service's projection of
    // them is behind, so their command's append fails and the group's statement with it.
    await ds.query(
      `INSERT INTO consent.events (event_id, stream_id, stream_position, type, data, metadata, recorded_at)
       VALUES ($1, $2, 1, 'national-opt-out.set.v1', '{}', $3, now())`,
      [randomUUID(), subjects[0], JSON.stringify({ ...context, causationId: null })],
    );
    const ids = subjects.map(() => randomUUID());
    const results = await Promise.allSettled(
      subjects.map((subject, i) => stream.execute(subject, grant(ids[i]), context, (v) => v)),
    );
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { code: 'VERSION_CONFLICT' },
    });
    for (const result of results.slice(1)) {
      expect(result).toEqual({
        status: 'fulfilled',
        value: { streamVersion: 1, body: 1, replayed: false },
      });
    }
    const states: { subject_id: string; state: { consents: { consentId: string }[] } }[] =
      await ds.query(`SELECT subject_id, state FROM consent.subject_states`);
    expect(new Map(states.map((s) => [s.subject_id, s.state.consents[0].consentId]))).toEqual(
      new Map(subjects.slice(1).map((subject, i) => [subject, ids[i + 1]])),
    );
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM consent.outbox WHERE stream_id = ANY($1)`,
      [subjects.map((subject) => `subject-${subject}`)],
    );
    expect(count).toBe(29);

    // Without a loser, concurrent commands for different people share statements.
    const more = nhsNumbers(30, 300000000);
    await Promise.all(
      more.map((subject) => stream.execute(subject, grant(randomUUID()), context, (v) => v)),
    );
    const [{ transactions }] = await ds.query(
      `SELECT count(DISTINCT transaction_id)::int AS transactions FROM consent.events
        WHERE stream_id = ANY($1)`,
      [more],
    );
    expect(transactions).toBeLessThan(30);
  });
  it('refuses a command that breaks a rule while the others in its group are written', async () => {
    const subjects = nhsNumbers(20, 400000000);
    const results = await Promise.allSettled(
      subjects.map((subject, i) =>
        stream.execute(
          subject,
          grant(randomUUID()),
          i === 0 ? { ...context, expectedVersion: 5 } : context,
          (v) => v,
        ),
      ),
    );
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { code: 'VERSION_CONFLICT', message: expect.stringMatching(/version 0, not 5/) },
    });
    expect(results.slice(1).map((r) => r.status)).toEqual(Array(19).fill('fulfilled'));
    const [{ streams }] = await ds.query(
      `SELECT count(DISTINCT stream_id)::int AS streams FROM consent.events WHERE stream_id = ANY($1)`,
      [subjects],
    );
    expect(streams).toBe(19);
  });
});

describe('rebuild of a log longer than a page and a write batch', () => {
  let database: Awaited<ReturnType<typeof migratedConsentDatabase>>;
  let ds: DataSource;

  beforeAll(async () => {
    database = await migratedConsentDatabase('consentlong', 2);
    ds = database.ds;
  });

  afterAll(() => database.drop());

  it('gives every person the state their own replay gives, with times in microseconds truncated', async () => {
    // 6,000 people x 5 events: more than one FETCH page (20,000) and one write batch (5,000).
    await ds.query(
      `INSERT INTO consent.events (event_id, stream_id, stream_position, type, data, metadata, recorded_at)
       SELECT gen_random_uuid(), 'p' || lpad(p::text, 6, '0'), n,
              CASE WHEN n = 3 THEN 'national-opt-out.set.v1' ELSE 'consent.granted.v1' END,
              CASE WHEN n = 3 THEN '{}'::jsonb ELSE jsonb_build_object(
                'consentId', gen_random_uuid(), 'purposes', '["direct-care"]'::jsonb,
                'recipients', '["kind:nhs-trust"]'::jsonb, 'dataCategories', '["care-plan"]'::jsonb,
                'validFrom', '2026-01-01T00:00:00.000Z', 'validUntil', null,
                'capture', '{"method":"written","givenBy":"subject","capacity":"has-capacity"}'::jsonb,
                'evidenceRef', null, 'notes', null) END,
              jsonb_build_object('actor', jsonb_build_object('userId', 'sw-' || n, 'org', 'X26',
                'role', 'social_worker'), 'correlationId', 'c', 'causationId', null),
              timestamptz '2026-03-01 10:00:00+00' + p * interval '1 second' + n * interval '1.9 ms'
         FROM generate_series(1, 6000) AS p, generate_series(1, 5) AS n`,
    );
    const progress: number[] = [];
    const result = await rebuildProjection(ds, (done) => progress.push(done));
    expect(result).toEqual({ events: 30_000, subjects: 6_000 });
    expect(progress).toEqual([0, 20_000, 30_000]);
    const stream = new ConsentStreamService(ds, new OutboxWriter('consent', TOPICS.consent));
    for (const subject of ['p000001', 'p002500', 'p005001', 'p006000']) {
      expect(await stream.current(subject)).toEqual(replay(subject, await stream.events(subject)));
    }
    const [{ states, index }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM consent.subject_states) AS states,
              (SELECT count(*)::int FROM consent.record_index) AS index`,
    );
    expect({ states, index }).toEqual({ states: 6_000, index: 24_000 });
    expect((await stream.current('p000001')).updatedAt).toBe('2026-03-01T10:00:01.009Z');
  });
});
