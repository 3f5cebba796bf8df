import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from './auth.options';
import type { AuthenticatedUser } from './authenticated-user';
import { JwtStrategy, VerifiedTokens } from './jwt.strategy';

const USER: AuthenticatedUser = {
  userId: 'sw-1',
  org: 'X26',
  roles: ['social_worker'],
  teams: ['north'],
};
const T0 = Date.parse('2026-11-24T10:00:00.000Z');

describe('verified tokens', () => {
  let now = T0;
  const clock = () => now;
  beforeEach(() => (now = T0));

  it('reuses a verification strictly before the token expires, never at or after', () => {
    const tokens = new VerifiedTokens(10, clock);
    tokens.remember('a', { exp: T0 / 1000 + 60 }, USER);
    now = T0 + 59_999;
    expect(tokens.get('a')).toEqual(USER);
    now = T0 + 60_000;
    expect(tokens.get('a')).toBeNull();
    // Forgotten once expired: a later look-up verifies again.
    now = T0;
    expect(tokens.get('a')).toBeNull();
  });

  it('never remembers a token without a numeric exp, or one already expired', () => {
    const tokens = new VerifiedTokens(10, clock);
    tokens.remember('none', {}, USER);
    tokens.remember('text', { exp: String(T0 / 1000 + 60) }, USER);
    tokens.remember('past', { exp: T0 / 1000 - 1 }, USER);
    tokens.remember('now', { exp: T0 / 1000 }, USER);
    expect(tokens.size).toBe(0);
  });

  it('reuses a verification for 5 minutes at most, however long the token lives', () => {
    const tokens = new VerifiedTokens(10, clock);
    tokens.remember('a', { exp: T0 / 1000 + 3600 }, USER);
    now = T0 + 5 * 60_000 - 1;
    expect(tokens.get('a')).toEqual(USER);
    now = T0 + 5 * 60_000;
    expect(tokens.get('a')).toBeNull();
  });

  it('holds at most its bound, forgetting the least recently used first', () => {
    const tokens = new VerifiedTokens(3, clock);
    const exp = T0 / 1000 + 60;
    for (const t of ['a', 'b', 'c']) tokens.remember(t, { exp }, { ...USER, userId: t });
    expect(tokens.get('a')?.userId).toBe('a');
    tokens.remember('d', { exp }, { ...USER, userId: 'd' });
    expect(tokens.size).toBe(3);
    expect(tokens.get('b')).toBeNull();
    expect(['a', 'c', 'd'].map((t) => tokens.get(t)?.userId)).toEqual(['a', 'c', 'd']);
  });

  it('hands out copies: a caller changed by one request is not the next one', () => {
    const tokens = new VerifiedTokens(10, clock);
    tokens.remember('a', { exp: T0 / 1000 + 60 }, USER);
    const first = tokens.get('a') as AuthenticatedUser;
    first.roles.push('admin');
    first.userId = 'someone-else';
    expect(tokens.get('a')).toEqual(USER);
    expect(USER.roles).toEqual(['social_worker']);
  });
});

describe('JwtStrategy reusing verifications', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const strategy = new JwtStrategy({
    publicKeyPem: publicKey,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
  });
  const sign = (claims: object, expiresIn = 60) =>
    jwt.sign({ org: 'X26', roles: ['social_worker'], teams: ['north'], ...claims }, privateKey, {
      algorithm: 'RS256',
      subject: 'sw-1',
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      expiresIn,
    });

  /** One passport authentication of a request bearing `token`. */
  async function authenticate(
    token: string,
  ): Promise<{ ok: true; user: AuthenticatedUser } | { ok: false; why: unknown }> {
    return new Promise((resolve) => {
      const attempt = Object.create(strategy) as JwtStrategy & {
        success: (user: AuthenticatedUser) => void;
        fail: (why: unknown) => void;
        error: (why: unknown) => void;
      };
      attempt.success = (user) => resolve({ ok: true, user });
      attempt.fail = (why) => resolve({ ok: false, why });
      attempt.error = (why) => resolve({ ok: false, why });
      attempt.authenticate({ headers: { authorization: `Bearer ${token}` } } as never);
    });
  }

  afterEach(() => jest.useRealTimers());

  it('accepts a token again from memory until it expires, then refuses it as before', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    // passport-jwt asks for the key on every verification it makes.
    const verifications = jest.spyOn(
      strategy as unknown as { _secretOrKeyProvider: (...args: unknown[]) => void },
      '_secretOrKeyProvider',
    );
    const token = sign({}, 60);
    expect(await authenticate(token)).toEqual({ ok: true, user: USER });
    jest.setSystemTime(T0 + 59_000);
    expect(await authenticate(token)).toEqual({ ok: true, user: USER });
    expect(verifications).toHaveBeenCalledTimes(1);
    // Past exp but inside verification's 30 s clock tolerance: verified again and accepted.
    jest.setSystemTime(T0 + 70_000);
    expect(await authenticate(token)).toEqual({ ok: true, user: USER });
    jest.setSystemTime(T0 + 91_000);
    const refused = await authenticate(token);
    expect(refused.ok).toBe(false);
    expect((refused as { why: Error }).why.name).toBe('TokenExpiredError');
    expect(verifications).toHaveBeenCalledTimes(3);
    verifications.mockRestore();
  });

  it('never remembers a token it refused', async () => {
    const token = sign({ roles: [] });
    for (let i = 0; i < 2; i++) expect((await authenticate(token)).ok).toBe(false);
    const tampered = sign({}).replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
    for (let i = 0; i < 2; i++) expect((await authenticate(tampered)).ok).toBe(false);
  });
});
