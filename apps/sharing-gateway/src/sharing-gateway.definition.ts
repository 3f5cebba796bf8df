import { SERVICE_SCHEMAS, TOPICS, type ServiceDefinition } from '#common';
import { GatewayTransportTables1763800000000 } from './migrations/1763800000000-transport-tables';
import { GatewayTables1764000000000 } from './migrations/1764000000000-gateway-tables';
import { GatewayOutboxReaders1764100000000 } from './migrations/1764100000000-outbox-readers';
import { GatewayDecisionsStoredUncompressed1764500000000 } from './migrations/1764500000000-decisions-stored-uncompressed';
import { GatewayKafkaState1764600000000 } from './migrations/1764600000000-kafka-state';
import { GatewayDecisionBodyAsText1764700000000 } from './migrations/1764700000000-decision-body-as-text';

/** sharing-gateway: its schema, its outbox topic and its migrations, in order. */
export const SharingGatewayDefinition: ServiceDefinition = {
  name: 'sharing-gateway',
  schema: SERVICE_SCHEMAS.gateway,
  topic: TOPICS.gateway,
  title: 'Care Consent Ledger: sharing gateway',
  description:
    "Decides, per data category, whether a requester may see a person's care record for a purpose, records the decision before any data leaves, and proxies the record.",
  migrations: [
    GatewayTransportTables1763800000000,
    GatewayTables1764000000000,
    GatewayOutboxReaders1764100000000,
    GatewayDecisionsStoredUncompressed1764500000000,
    GatewayKafkaState1764600000000,
    GatewayDecisionBodyAsText1764700000000,
  ],
};
