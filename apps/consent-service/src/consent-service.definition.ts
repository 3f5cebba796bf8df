import { SERVICE_SCHEMAS, TOPICS, type ServiceDefinition } from '#common';
import { ConsentTransportTables1763800000000 } from './migrations/1763800000000-transport-tables';
import { ConsentEventStore1763900000000 } from './migrations/1763900000000-consent-event-store';
import { ConsentOutboxReaders1764100000000 } from './migrations/1764100000000-outbox-readers';
import { ConsentKafkaState1764600000000 } from './migrations/1764600000000-kafka-state';

/** consent-service: its schema, its outbox topic and its migrations, in order. */
export const ConsentServiceDefinition: ServiceDefinition = {
  name: 'consent-service',
  schema: SERVICE_SCHEMAS.consent,
  topic: TOPICS.consent,
  title: 'Care Consent Ledger: consent service',
  description:
    'Records what each person has agreed to, refused or objected to, as an append-only stream of events per person, with every past state recoverable.',
  migrations: [
    ConsentTransportTables1763800000000,
    ConsentEventStore1763900000000,
    ConsentOutboxReaders1764100000000,
    ConsentKafkaState1764600000000,
  ],
};
