import type { MixedList } from 'typeorm';
import type { CommonEnv } from '../config/common-env';
import type { ServiceSchema, Topic } from '../contracts/topics';

/** What distinguishes one service from another at the platform level. */
export interface ServiceDefinition {
  /** `consent-service`, `sharing-gateway`, `audit-service`. */
  name: string;
  /** Schema the service owns; its outbox, inbox and checkpoints live there too. */
  schema: ServiceSchema;
  /** Topic of the service's own outbox. */
  topic: Topic;
  title: string;
  description: string;
  migrations: MixedList<string | (new () => unknown)>;
  entities?: MixedList<string | (new () => unknown)>;
  /** A database role the service switches to for its own work (not for migrations). */
  runtimeRole?: (config: CommonEnv) => string | null;
}

/** Injection tokens for the service's validated configuration, definition and logger. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const SERVICE_DEFINITION = Symbol('SERVICE_DEFINITION');
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');
