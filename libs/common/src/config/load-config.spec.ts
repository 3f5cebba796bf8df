import { Type } from 'class-transformer';
import { IsInt, Min } from 'class-validator';
import { CommonEnv } from './common-env';
import { ConfigError, loadConfig } from './load-config';

class ExampleEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  EXAMPLE_LIMIT = 5;
}

const valid = { PORT: '3001', DATABASE_URL: 'postgres://u:p@localhost:5432/db' };

describe('loadConfig', () => {
  it('converts types and applies defaults', () => {
    const env = loadConfig(ExampleEnv, { ...valid, KAFKA_IDEMPOTENT: 'false' });
    expect(env.PORT).toBe(3001);
    expect(env.EXAMPLE_LIMIT).toBe(5);
    expect(env.KAFKA_IDEMPOTENT).toBe(false);
    expect(env.DB_POOL_SIZE).toBe(10);
  });

  it('names every missing or bad variable', () => {
    let error: unknown;
    try {
      loadConfig(ExampleEnv, { PORT: 'abc', KAFKA_BROKERS: 'not a list', EXAMPLE_LIMIT: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'EXAMPLE_LIMIT', 'KAFKA_BROKERS', 'PORT']),
    );
    expect((error as ConfigError).message).toMatch(/DATABASE_URL must be a postgres/);
  });

  it('treats empty strings as unset', () => {
    const env = loadConfig(ExampleEnv, { ...valid, KAFKA_BROKERS: '' });
    expect(env.KAFKA_BROKERS).toBeUndefined();
  });

  it('requires a key source in production', () => {
    expect(() => loadConfig(ExampleEnv, { ...valid, NODE_ENV: 'production' })).toThrow(
      /JWT_PUBLIC_KEY_FILE or JWKS_URI/,
    );
    expect(
      loadConfig(ExampleEnv, {
        ...valid,
        NODE_ENV: 'production',
        JWKS_URI: 'https://login.example.nhs.uk/.well-known/jwks.json',
      }).JWKS_URI,
    ).toContain('jwks');
  });
});
