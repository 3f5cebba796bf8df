import { describeKafka, startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { describeJourneys } from './journey-suite';

jest.setTimeout(180_000);

describeKafka('the eight journeys of issue 6, events through Kafka (kcat mock cluster)', () => {
  let kafka: KafkaMock;

  beforeAll(async () => {
    kafka = await startKafkaMock();
  });

  describeJourneys(() => ({ kafkaBrokers: kafka.brokers }));

  // Declared after the journeys' own afterAll, so the services stop before their brokers do.
  afterAll(async () => {
    await kafka?.stop();
  });
});
