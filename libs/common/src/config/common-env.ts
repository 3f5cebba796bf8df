import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === true ? true : value === 'false' || value === false ? false : value;

/** Variables every service reads; each app's config/env.ts extends this with its own. */
export class CommonEnv {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT!: number;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: '$property must be a postgres:// connection URL' })
  DATABASE_URL!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Comma-separated host:port list; when set, events travel over Kafka instead of PostgreSQL. */
  @IsOptional()
  @Matches(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, {
    message: '$property must be a comma-separated host:port list',
  })
  KAFKA_BROKERS?: string;

  /** Kafka's idempotent producer; the librdkafka mock used in tests cannot serve it. */
  @Transform(toBoolean)
  @IsBoolean()
  KAFKA_IDEMPOTENT = true;

  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(60_000)
  TRANSPORT_POLL_INTERVAL_MS = 50;

  /** Kafka consumer group session timeout; heartbeats go every tenth of it. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  KAFKA_SESSION_TIMEOUT_MS = 30_000;

  /**
   * Longest a Kafka fetch waits for new messages before answering empty. Where a broker does
   * not cut the wait short when a message arrives (the librdkafka mock does not), an event can
   * wait this long at each hop, so it stays well inside the 1 s withdrawal-to-enforcement bound
   * (`npm run bench -- e2e`); elsewhere it only sets how often an idle consumer asks again.
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(30_000)
  KAFKA_MAX_WAIT_MS = 100;

  /**
   * How often the relay tells its topic's consumers, on every partition, that everything its
   * outbox committed before a moment is now in Kafka. Consumers that must know how current
   * they are (the gateway's consent replica) count only from these, so keep it well under
   * CONSENT_MAX_STALENESS_MS. 0 turns watermarks off, and such replicas then count as stale.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  KAFKA_WATERMARK_INTERVAL_MS = 1000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** OIDC provider's key set; without it, the embedded setup's local key pair is used. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  JWKS_URI?: string;

  @ValidateIf((env: CommonEnv) => env.NODE_ENV === 'production' && !env.JWKS_URI)
  @IsString({ message: 'JWT_PUBLIC_KEY_FILE or JWKS_URI must be set in production' })
  JWT_PUBLIC_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  /** Where generated keys (and, for the embedded setup, PostgreSQL) live. */
  @IsString()
  DATA_DIR = '.data';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(120_000)
  SHUTDOWN_GRACE_MS = 10_000;
}

/** The brokers of KAFKA_BROKERS, or an empty list for the PostgreSQL transport. */
export function kafkaBrokers(env: CommonEnv): string[] {
  return env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(',') : [];
}

/** The database `npm start` creates in its embedded PostgreSQL, and that server's default port. */
export const LOCAL_DATABASE_NAME = 'care_ledger';
export const LOCAL_PG_PORT = 54329;

/**
 * For command-line tools (`audit:verify`, `consent:rebuild`): without DATABASE_URL they use the
 * embedded database `npm start` runs (on PG_PORT), so the README's commands work as written. A
 * deployment always sets DATABASE_URL; an unset one there fails to connect, not silently.
 */
export function withLocalDatabase(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  if (env.DATABASE_URL) return env;
  const port = env.PG_PORT ?? String(LOCAL_PG_PORT);
  return {
    ...env,
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/${LOCAL_DATABASE_NAME}`,
  };
}
