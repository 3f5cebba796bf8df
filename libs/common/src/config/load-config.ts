import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/** Thrown when the environment does not describe a runnable service; names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; problem: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, at boot, into a typed object (class-validator rules on
 * `schema`). Nothing else in a service reads process.env.
 */
export function loadConfig<T extends object>(
  schema: new () => T,
  env: Record<string, string | undefined>,
): T {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const config = plainToInstance(schema, defined, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) throw new ConfigError(errors.flatMap(describe));
  return config;
}

function describe(error: ValidationError): { variable: string; problem: string }[] {
  const own = Object.values(error.constraints ?? {}).map((problem) => ({
    variable: error.property,
    problem,
  }));
  return [...own, ...(error.children ?? []).flatMap(describe)];
}
