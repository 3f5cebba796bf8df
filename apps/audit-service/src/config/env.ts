import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { CommonEnv } from '#common';

/** audit-service configuration, validated once at boot. */
export class AuditServiceEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  override PORT = 3003;
}

/** Reads and validates the environment; the only place audit-service reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
