// The only barrel of libs/common (STYLE.md): services import the library through `#common`.
export * from './contracts/vocabulary';
export * from './contracts/nhs-number';
export * from './contracts/event-envelope';
export * from './contracts/topics';
export * from './database/data-source.factory';
export * from './database/transport-tables';
export * from './observability/logger';
export * from './transport/backoff';
export * from './transport/event-consumer';
export * from './transport/outbox-writer';
export * from './transport/postgres-consumer';
