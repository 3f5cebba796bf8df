import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  nhsNumbers,
  OutboxWriter,
  runMigrations,
  type NewEvent,
} from '#common';
import { AuditServiceDefinition } from '../../apps/audit-service/src/audit-service.definition';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { SharingGatewayDefinition } from '../../apps/sharing-gateway/src/sharing-gateway.definition';
import { LogVerifier } from '../../apps/audit-service/src/log/verify/log-verifier';
import { freePort } from '../../scripts/embedded-postgres';
import { killAndWait, startScript } from '../support/child-process';
import { createTestDatabase } from '../support/test-database';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(300_000);

const EVENTS = 20_000;

describe('two audit-service processes ingesting at once', () => {
  let db: { url: string; drop: () => Promise<void> };
  const sources: DataSource[] = [];
  const processes: ChildProcess[] = [];
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('auditconc');
    dataDir = mkdtempSync(join(tmpdir(), 'audit-conc-'));
    for (const definition of [
      ConsentServiceDefinition,
      SharingGatewayDefinition,
      AuditServiceDefinition,
    ]) {
      const ds = createServiceDataSource({
        url: db.url,
        schema: definition.schema,
        migrations: definition.migrations,
        poolSize: 4,
      });
      await runMigrations(ds, definition.schema);
      sources.push(await ds.initialize());
    }
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => killAndWait(p, 'SIGTERM')));
    for (const ds of sources) await ds.destroy();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const people = nhsNumbers(200);
  /** Commits `count` events split over both streams, 50 per transaction, numbered from `from`. */
  const produce = async (from: number, count: number): Promise<void> => {
    const writers = [
      { ds: sources[0], writer: new OutboxWriter('consent', 'consent.events') },
      { ds: sources[1], writer: new OutboxWriter('gateway', 'gateway.events') },
    ];
    await Promise.all(
      writers.map(async ({ ds, writer }, w) => {
        for (let t = 0; t < count / 2 / 50; t++) {
          const batch: NewEvent[] = Array.from({ length: 50 }, (_, i) => {
            const n = from + t * 50 + i;
            const subjectId = people[n % people.length];
            return {
              type: w === 0 ? 'national-opt-out.set.v1' : 'gateway.test-load.v1',
              streamId: `${w}-${subjectId}`,
              streamVersion: n + 1,
              subjectId,
              actor: { userId: `load-${w}`, org: 'X26', role: 'system' },
              correlationId: `c-${w}-${n}`,
              causationId: null,
              data: {},
            };
          });
          await ds.transaction((tx) => writer.append(tx, batch));
        }
      }),
    );
  };
  const logSize = async (): Promise<number> =>
    (await sources[2].query(`SELECT count(*)::int AS n FROM audit.entries`))[0].n;

  it('make one unbroken chain with every event exactly once (20,000 events, two streams)', async () => {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      processes.push(
        await startScript(
          'apps/audit-service/src/main.js',
          {
            DATABASE_URL: db.url,
            PORT: String(port),
            DATA_DIR: dataDir,
            LOG_LEVEL: 'info',
            TRANSPORT_POLL_INTERVAL_MS: '10',
            TREE_HEAD_INTERVAL_MS: '300',
            // Small batches make the two processes interleave their appends many times.
            DB_POOL_SIZE: '4',
          },
          'listening',
          60_000,
        ),
      );
    }
    await produce(0, EVENTS);
    const audit = sources[2];
    await waitFor(
      async () =>
        (await audit.query(`SELECT count(*)::int AS n FROM audit.entries`))[0].n >= EVENTS,
      240_000,
      'every event in the log',
    );
    const [{ n, distinct, maxSeq }] = await audit.query(
      `SELECT count(*)::int AS n, count(DISTINCT source_event_id)::int AS distinct, max(seq)::int AS "maxSeq"
         FROM audit.entries`,
    );
    expect({ n, distinct, maxSeq }).toEqual({ n: EVENTS, distinct: EVENTS, maxSeq: EVENTS });
    expect(await new LogVerifier(audit).verify()).toMatchObject({ ok: true, checked: EVENTS });
    // Both processes really appended: each applied a share of the events.
    const consumed = await Promise.all(
      ports.map(async (port) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return [
          ...text.matchAll(
            /^events_consumed_total\{[^}]*group="audit-service\.ingest\.[^}]*\} (\d+)/gm,
          ),
        ].reduce((sum, m) => sum + Number(m[1]), 0);
      }),
    );
    expect(consumed[0] + consumed[1]).toBe(EVENTS);
    expect(Math.min(...consumed)).toBeGreaterThan(0);
  });

  it('go on without a replica killed mid-append: the other takes over, nothing lost or doubled', async () => {
    const more = 10_000;
    const producing = produce(EVENTS, more);
    await waitFor(async () => (await logSize()) >= EVENTS + 1000, 60_000, 'appends under way');
    await killAndWait(processes[0], 'SIGKILL');
    await producing;
    await waitFor(
      async () => (await logSize()) >= EVENTS + more,
      120_000,
      'the survivor to catch up',
    );
    const [{ n, distinct, maxSeq }] = await sources[2].query(
      `SELECT count(*)::int AS n, count(DISTINCT source_event_id)::int AS distinct, max(seq)::int AS "maxSeq"
         FROM audit.entries`,
    );
    const total = EVENTS + more;
    expect({ n, distinct, maxSeq }).toEqual({ n: total, distinct: total, maxSeq: total });
    expect(await new LogVerifier(sources[2]).verify()).toMatchObject({ ok: true, checked: total });
  });
});
