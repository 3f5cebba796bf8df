import { Client } from 'pg';
import type { EventEnvelope } from '#common';
import { NOTICE_EVENTS } from '../../apps/audit-service/src/notifications/intake/notice-intake.consumer';
import { testServerUrl } from '../support/test-database';

const event = (type: string, data: unknown): EventEnvelope =>
  ({
    id: '00000000-0000-4000-8000-000000000001',
    type,
    streamId: 's',
    streamVersion: 1,
    subjectId: '9434765919',
    occurredAt: '2026-11-24T09:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    actor: { userId: 'u', org: 'X26', role: 'social_worker' },
    data,
  }) as unknown as EventEnvelope;

/**
 * The notice intake's selection is written twice, in SQL for the PostgreSQL transport and in
 * TypeScript for Kafka: a notice lost on one transport only would be a silent failure, so both
 * must agree on every shape of event, well formed or not.
 */
describe('the notice intake selects the same events in SQL and in TypeScript', () => {
  const cases: [string, EventEnvelope, boolean][] = [
    [
      'override obliging a notice',
      event('gateway.decision.v1', { obligations: ['ig-review', 'notify-subject'] }),
      true,
    ],
    ['decision without obligations', event('gateway.decision.v1', { obligations: [] }), false],
    [
      'decision with other obligations',
      event('gateway.decision.v1', { obligations: ['ig-review'] }),
      false,
    ],
    ['decision with no obligations field', event('gateway.decision.v1', {}), false],
    [
      'obligations as a string',
      event('gateway.decision.v1', { obligations: 'notify-subject' }),
      false,
    ],
    ['decision without data', event('gateway.decision.v1', null), false],
    ['contact preferences', event('contact-preferences.set.v1', { channel: 'email' }), true],
    ['organisation named', event('gateway.organisation.set.v1', { odsCode: 'X26' }), true],
    ['consent granted', event('consent.granted.v1', { obligations: ['notify-subject'] }), false],
    ['notification sent', event('audit.notification.sent.v1', {}), false],
  ];
  let db: Client;

  beforeAll(async () => {
    db = new Client({ connectionString: testServerUrl() });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
  });

  it.each(cases)('%s', async (_name, envelope, expected) => {
    expect(NOTICE_EVENTS.matches(envelope)).toBe(expected);
    const { rows } = await db.query(
      `SELECT ${NOTICE_EVENTS.sql} AS selected FROM (SELECT $1::text AS type, $2::jsonb AS envelope) o`,
      [envelope.type, JSON.stringify(envelope)],
    );
    expect(rows[0].selected).toBe(expected);
  });
});
