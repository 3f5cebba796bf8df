import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Consumer, KafkaMessage } from 'kafkajs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  createKafkaClient,
  isWatermark,
  OutboxWriter,
  readWatermark,
  WATERMARK_EVENT_TYPE,
  type Logger,
} from '#common';
import { AppModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { describeKafka, startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { bootServiceForTest } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { testEvent, waitFor } from '../support/transport-harness';

jest.setTimeout(90_000);

describeKafka('a service on the Kafka transport', () => {
  let mock: KafkaMock;
  let db: { url: string; drop: () => Promise<void> };
  let app: NestFastifyApplication;
  let reader: Consumer;

  beforeAll(async () => {
    mock = await startKafkaMock();
    db = await createTestDatabase('kafkaservice');
    ({ app } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      env: {
        KAFKA_BROKERS: mock.brokers.join(','),
        KAFKA_IDEMPOTENT: 'false',
        TRANSPORT_POLL_INTERVAL_MS: '20',
      },
      appModule: (c: ConsentServiceEnv, l: Logger) => AppModule.forRoot(c, l),
    }));
  });

  afterAll(async () => {
    mock.resume();
    await reader?.disconnect();
    await app?.close();
    await db.drop();
    await mock.stop();
  });

  it('relays its outbox to its topic keyed by subject, with watermarks on every partition, and is ready only while Kafka answers', async () => {
    await request(app.getHttpServer()).get('/health/ready').expect(200);

    const ds = app.get(DataSource);
    const writer = app.get(OutboxWriter);
    const [written] = await ds.transaction((tx) =>
      writer.append(tx, [{ ...testEvent('9434765919', 1), type: 'consent.granted.v1' }]),
    );
    const [{ committed }]: { committed: Date }[] = await ds.query(
      `SELECT clock_timestamp() AS committed`,
    );
    const messages: { partition: number; message: KafkaMessage }[] = [];
    reader = createKafkaClient({ brokers: mock.brokers, clientId: 'reader' }).consumer({
      groupId: 'reader',
      sessionTimeout: 3000,
      heartbeatInterval: 500,
      rebalanceTimeout: 3000,
      maxWaitTimeInMs: 100,
    });
    await reader.connect();
    await reader.subscribe({ topic: 'consent.events', fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) => void messages.push({ partition, message }),
    });
    const received = () => messages.filter((m) => !isWatermark(m.message)).map((m) => m.message);
    // The mock cluster creates topics with 4 partitions; a watermark sent after the event
    // vouches for it on each of them.
    const vouched = () =>
      new Set(
        messages
          .filter((m) => isWatermark(m.message))
          .filter((m) => (readWatermark(m.message)?.asOf.getTime() ?? 0) >= committed.getTime())
          .map((m) => m.partition),
      );
    await waitFor(async () => vouched().size === 4, 30_000, 'watermarks after the event');
    expect(received()).toHaveLength(1);
    const watermark = messages.filter((m) => isWatermark(m.message)).at(-1)?.message;
    expect(watermark?.headers?.['event-type']?.toString()).toBe(WATERMARK_EVENT_TYPE);
    expect(readWatermark(watermark as KafkaMessage)).toEqual({
      asOf: expect.any(Date),
      partitions: 4,
    });
    const [event] = received();
    expect(event.key?.toString()).toBe('9434765919');
    expect(event.headers?.['event-id']?.toString()).toBe(written.id);
    expect(JSON.parse(event.value?.toString() ?? '{}')).toMatchObject({
      id: written.id,
      type: 'consent.granted.v1',
      subjectId: '9434765919',
    });

    mock.pause();
    const down = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(down.body.details).toEqual([expect.objectContaining({ field: 'transport' })]);
    mock.resume();
    await waitFor(
      async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200,
      30_000,
      'ready again',
    );
  });
});
