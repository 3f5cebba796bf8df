import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';
import { CommonEnv, ROLES, type Role } from '#common';

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
    : value;

/** sharing-gateway configuration, validated once at boot. */
export class SharingGatewayEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  override PORT = 3002;

  /** How old the consent replica may be before consent-dependent categories are denied. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  CONSENT_MAX_STALENESS_MS = 5000;

  /** How long a safeguarding override keeps access open for that requester and person. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(168)
  BREAK_GLASS_WINDOW_HOURS = 24;

  /** Roles that may use the safeguarding override, comma-separated. */
  @Transform(toList)
  @IsIn(ROLES, { each: true, message: `each of $property must be one of: ${ROLES.join(', ')}` })
  BREAK_GLASS_ROLES: Role[] = ['safeguarding_lead', 'social_worker'];

  /** The care record system behind the proxy; a built-in synthetic source when unset. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  RECORD_SOURCE_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  RECORD_SOURCE_TIMEOUT_MS = 5000;
}

/** Reads and validates the environment; the only place sharing-gateway reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
