import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CommonEnv } from '#common';

/** audit-service configuration, validated once at boot. */
export class AuditServiceEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  override PORT = 3003;

  /** A signed tree head is issued at least this often while the log grows. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  TREE_HEAD_INTERVAL_MS = 5000;

  /** ... or as soon as this many entries are not yet covered by one. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  TREE_HEAD_MAX_ENTRIES = 10_000;

  /** PEM Ed25519 private key for tree heads; generated under DATA_DIR/keys when unset. */
  @IsOptional()
  @IsString()
  AUDIT_SIGNING_KEY_FILE?: string;

  /**
   * The database role the service acts as at run time: INSERT and SELECT on the log only, so
   * not even a bug in this service can rewrite it. Empty to act as the connecting user.
   */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: '$property must be a PostgreSQL role name' })
  AUDIT_DB_ROLE = 'audit_runtime';
}

/** Reads and validates the environment; the only place audit-service reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
