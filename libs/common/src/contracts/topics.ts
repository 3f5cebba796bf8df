/** Kafka topics, one per producing service; also the names of the PostgreSQL outbox streams. */
export const TOPICS = {
  consent: 'consent.events',
  gateway: 'gateway.events',
  audit: 'audit.events',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];
export const TOPIC_NAMES = Object.values(TOPICS) as Topic[];

/** Database schema owning each service's data and outbox. */
export const SERVICE_SCHEMAS = {
  consent: 'consent',
  gateway: 'gateway',
  audit: 'audit',
} as const;
export type ServiceSchema = (typeof SERVICE_SCHEMAS)[keyof typeof SERVICE_SCHEMAS];

/** The schema whose outbox carries a topic (the PostgreSQL transport reads it there). */
export function schemaOfTopic(topic: Topic): ServiceSchema {
  switch (topic) {
    case TOPICS.consent:
      return SERVICE_SCHEMAS.consent;
    case TOPICS.gateway:
      return SERVICE_SCHEMAS.gateway;
    case TOPICS.audit:
      return SERVICE_SCHEMAS.audit;
    default: {
      const unknownTopic: never = topic;
      throw new Error(`Unknown topic ${String(unknownTopic)}`);
    }
  }
}
