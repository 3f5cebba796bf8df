import { readFileSync } from 'node:fs';
import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { AuthModule } from '../auth/auth.module';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, type AuthOptions } from '../auth/auth.options';
import { ensureLocalKeyPair } from '../auth/local-keys';
import type { CommonEnv } from '../config/common-env';
import { createServiceDataSource } from '../database/data-source.factory';
import { HealthController } from '../observability/health.controller';
import { ServiceMetrics } from '../observability/metrics';
import { OutboxWriter } from '../transport/outbox-writer';
import {
  SERVICE_CONFIG,
  SERVICE_DEFINITION,
  SERVICE_LOGGER,
  type ServiceDefinition,
} from './service-definition';
import { TransportService } from './transport.service';

/** Where tokens are verified: the OIDC provider's JWKS, a given public key, or the local pair. */
export function authOptionsFor(config: CommonEnv): AuthOptions {
  const common = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  if (config.JWKS_URI) return { ...common, jwksUri: config.JWKS_URI };
  if (config.JWT_PUBLIC_KEY_FILE) {
    return { ...common, publicKeyPem: readFileSync(config.JWT_PUBLIC_KEY_FILE, 'utf8') };
  }
  // Embedded setup: the key pair is generated under DATA_DIR on first start.
  return {
    issuer: config.JWT_ISSUER ?? LOCAL_ISSUER,
    audience: config.JWT_AUDIENCE ?? LOCAL_AUDIENCE,
    publicKeyPem: ensureLocalKeyPair(config.DATA_DIR).publicKeyPem,
  };
}

/**
 * What every service shares: its database (TypeORM, migrations only), outbox writer, event
 * transport, authentication, health and metrics. Global, so feature modules inject from it.
 */
@Module({})
export class ServiceCoreModule {
  static forRoot(definition: ServiceDefinition, config: CommonEnv, logger: Logger): DynamicModule {
    return {
      module: ServiceCoreModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres' as const }),
          dataSourceFactory: async () =>
            createServiceDataSource({
              url: config.DATABASE_URL,
              schema: definition.schema,
              migrations: definition.migrations,
              entities: definition.entities,
              poolSize: config.DB_POOL_SIZE,
              applicationName: definition.name,
              sessionRole: definition.runtimeRole?.(config) ?? null,
            }).initialize(),
        }),
        AuthModule.forRoot(authOptionsFor(config)),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: SERVICE_DEFINITION, useValue: definition },
        { provide: SERVICE_LOGGER, useValue: logger },
        { provide: ServiceMetrics, useValue: new ServiceMetrics(definition.name) },
        { provide: OutboxWriter, useValue: new OutboxWriter(definition.schema, definition.topic) },
        TransportService,
      ],
      exports: [
        SERVICE_CONFIG,
        SERVICE_DEFINITION,
        SERVICE_LOGGER,
        ServiceMetrics,
        OutboxWriter,
        TransportService,
      ],
    };
  }
}
