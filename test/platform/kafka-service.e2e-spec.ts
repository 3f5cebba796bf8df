import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Consumer, KafkaMessage } from 'kafkajs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createKafkaClient, OutboxWriter, type Logger } from '#common';
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

  it('relays its outbox to its topic keyed by subject, and is ready only while Kafka answers', async () => {
    await request(app.getHttpServer()).get('/health/ready').expect(200);

    const ds = app.get(DataSource);
    const writer = app.get(OutboxWriter);
    const [written] = await ds.transaction((tx) =>
      writer.append(tx, [{ ...testEvent('9434765919', 1), type: 'consent.granted.v1' }]),
    );
    const received: KafkaMessage[] = [];
    reader = createKafkaClient({ brokers: mock.brokers, clientId: 'reader' }).consumer({
      groupId: 'reader',
      sessionTimeout: 3000,
      heartbeatInterval: 500,
      rebalanceTimeout: 3000,
      maxWaitTimeInMs: 100,
    });
    await reader.connect();
    await reader.subscribe({ topic: 'consent.events', fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void received.push(message) });
    await waitFor(async () => received.length >= 1, 30_000, 'the relayed event');
    expect(received[0].key?.toString()).toBe('9434765919');
    expect(received[0].headers?.['event-id']?.toString()).toBe(written.id);
    expect(JSON.parse(received[0].value?.toString() ?? '{}')).toMatchObject({
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
