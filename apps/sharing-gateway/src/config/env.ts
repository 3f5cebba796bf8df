import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { CommonEnv } from '#common';

/** sharing-gateway configuration, validated once at boot. */
export class SharingGatewayEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  override PORT = 3002;
}

/** Reads and validates the environment; the only place sharing-gateway reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
