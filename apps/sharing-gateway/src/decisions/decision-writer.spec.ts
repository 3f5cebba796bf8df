import type { DataSource } from 'typeorm';
import { OutboxWriter, TOPICS, type Logger } from '#common';
import {
  DecisionWriter,
  MAX_IN_FLIGHT,
  MIN_PARALLEL_BATCH,
  type DecisionRecord,
} from './decision-writer';
import type { GatewayMetrics } from './gateway-metrics';

/** One statement sent, settled by the test. */
interface Sent {
  sql: string;
  params: unknown[];
  commit: () => void;
  fail: (error: Error) => void;
}

function setUp() {
  const sent: Sent[] = [];
  const dataSource = {
    query: (sql: string, params: unknown[]) =>
      new Promise<void>((resolve, reject) =>
        sent.push({ sql, params, commit: () => resolve(), fail: reject }),
      ),
  } as unknown as DataSource;
  const observed: number[] = [];
  const metrics = { commitBatch: { observe: (n: number) => observed.push(n) } };
  const logger = { error: () => undefined } as unknown as Logger;
  const writer = new DecisionWriter(
    dataSource,
    new OutboxWriter('gateway', TOPICS.gateway),
    logger,
    metrics as unknown as GatewayMetrics,
  );
  return { writer, sent, observed };
}

const record = (id: number): DecisionRecord => ({
  decisionId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
  decidedAt: '2026-11-24T10:00:00.000Z',
  subjectId: '9434765919',
  requesterUserId: 'sw-1',
  callerUserId: 'sw-1',
  outcome: 'permit',
  channel: 'decision',
  correlationId: `c-${id}`,
  body: { decision: { outcome: 'permit' }, text: 'quotes " and \\ backslashes {}' },
  window: null,
  event: {
    type: 'gateway.decision.v1',
    streamId: `decision-${id}`,
    streamVersion: 1,
    actor: { userId: 'sw-1', org: 'X26', role: 'social_worker' },
    correlationId: `c-${id}`,
    causationId: null,
    data: {},
  },
});

/** Lets settled promises run their callbacks. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Which of the promises have settled, and how. */
function track(promises: Promise<void>[]): string[] {
  const states = promises.map(() => 'pending');
  promises.forEach((p, i) =>
    p.then(
      () => (states[i] = 'committed'),
      () => (states[i] = 'failed'),
    ),
  );
  return states;
}

describe('DecisionWriter group commit', () => {
  it('settles each caller only when the batch holding its decision commits', async () => {
    const { writer, sent, observed } = setUp();
    const ids = Array.from({ length: 1 + MIN_PARALLEL_BATCH + 4 }, (_, i) => i);
    const writes = ids.map((i) => writer.write(record(i)));
    const states = track(writes);
    await settle();
    // The first starts a commit; the next ones wait for it until MIN_PARALLEL_BATCH of them do,
    // and those start a second; the last four wait.
    expect(sent.map((s) => JSON.parse(s.params[0] as string).length)).toEqual([
      1,
      MIN_PARALLEL_BATCH,
    ]);
    const second = ids.slice(1, 1 + MIN_PARALLEL_BATCH);
    const last = ids.slice(1 + MIN_PARALLEL_BATCH);

    sent[1].commit();
    await settle();
    expect(second.map((i) => states[i])).toEqual(second.map(() => 'committed'));
    expect([0, ...last].map((i) => states[i])).toEqual(['pending', ...last.map(() => 'pending')]);
    expect(sent).toHaveLength(2);

    sent[0].fail(new Error('forced failure'));
    await settle();
    expect(states[0]).toBe('failed');
    expect(last.map((i) => states[i])).toEqual(last.map(() => 'pending'));
    expect(sent).toHaveLength(3);

    sent[2].commit();
    await settle();
    expect(last.map((i) => states[i])).toEqual(last.map(() => 'committed'));
    // One observation per committed batch, none for the failed one.
    expect(observed).toEqual([MIN_PARALLEL_BATCH, 4]);
  });

  it('keeps at most MAX_IN_FLIGHT commits in flight, however many decisions wait', async () => {
    const { writer, sent } = setUp();
    const writes = Array.from({ length: 300 }, (_, i) => writer.write(record(i)));
    await settle();
    expect(sent).toHaveLength(MAX_IN_FLIGHT);
    for (let i = 0; i < sent.length; i++) {
      sent[i].commit();
      await settle();
    }
    await Promise.all(writes);
    const written = sent.flatMap((s) => JSON.parse(s.params[0] as string) as unknown[]);
    expect(written).toHaveLength(300);
  });

  it('writes decisions, windows and events in one statement, bodies as one json document', async () => {
    const { writer, sent } = setUp();
    const withWindow: DecisionRecord = {
      ...record(2),
      window: {
        userId: 'sw-1',
        subjectId: '9434765919',
        statute: 'care-act-2014-s42',
        opensAt: '2026-11-24T10:00:00.000Z',
        closesAt: '2026-11-25T10:00:00.000Z',
      },
    };
    const done = [writer.write(record(1)), writer.write(withWindow)];
    await settle();
    expect(sent).toHaveLength(1);
    sent[0].commit();
    await settle();
    expect(sent).toHaveLength(2);
    const [statement] = sent;
    expect(statement.sql).toMatch(
      /INSERT INTO gateway\.decisions[\s\S]*json_to_recordset\(\$1::json\)[\s\S]*body json\)/,
    );
    expect(statement.sql).toMatch(/INSERT INTO gateway\.break_glass_windows/);
    expect(statement.sql).toMatch(/INSERT INTO "gateway"\.outbox/);
    const decisions = JSON.parse(statement.params[0] as string) as { body: unknown }[];
    expect(decisions).toEqual([
      expect.objectContaining({
        decision_id: record(1).decisionId,
        correlation_id: 'c-1',
        body: record(1).body,
      }),
    ]);
    const windows = JSON.parse(sent[1].params[1] as string) as unknown[];
    expect(windows).toEqual([
      expect.objectContaining({ decision_id: withWindow.decisionId, statute: 'care-act-2014-s42' }),
    ]);
    for (const s of sent) s.commit();
    await Promise.all(done);
  });
});
