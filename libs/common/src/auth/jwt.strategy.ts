import { createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { isValidNhsNumber } from '../contracts/nhs-number';
import { isOneOf, ROLES, type Role } from '../contracts/vocabulary';
import { ACCEPTED_ALGORITHMS, type AuthOptions } from './auth.options';
import type { AuthenticatedUser } from './authenticated-user';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** How many verified tokens are remembered (a few MB at most). */
const VERIFIED_TOKENS = 10_000;
/**
 * The longest a verification is reused: less than jwks-rsa's 10-minute key cache, so a key
 * withdrawn from the JWKS stops being accepted no later than it did without this cache.
 */
const VERIFIED_REUSE_MS = 5 * 60_000;

/**
 * Bearer tokens already verified, by their full text, least recently used first. RS256
 * verification was 7.4% of the gateway's CPU, and a client sends the same token until it
 * expires. A token is reused only strictly before its `exp` (verification itself allows 30 s of
 * clock skew past it): from then on it is verified again, so it is refused as before.
 * Everything else verification checks (signature, algorithm, issuer, audience) depends only on
 * the token's text and this process's configuration.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { user: AuthenticatedUser; until: number }>();

  constructor(
    private readonly max = VERIFIED_TOKENS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The caller a token was verified as, or null when it must be verified (again). */
  get(token: string): AuthenticatedUser | null {
    const entry = this.entries.get(token);
    if (entry === undefined) return null;
    this.entries.delete(token);
    if (!(this.now() < entry.until)) return null;
    this.entries.set(token, entry);
    // A copy: a handler changing its caller must not change the next request's.
    return { ...entry.user, roles: [...entry.user.roles], teams: [...entry.user.teams] };
  }

  /** Remembers a verified token; one without a numeric `exp` is never reused. */
  remember(token: string, payload: Record<string, unknown>, user: AuthenticatedUser): void {
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return;
    const until = Math.min(payload.exp * 1000, this.now() + VERIFIED_REUSE_MS);
    if (!(this.now() < until)) return;
    this.entries.delete(token);
    this.entries.set(token, {
      user: { ...user, roles: [...user.roles], teams: [...user.teams] },
      until,
    });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/** Verifies bearer JWTs against the JWKS or the configured public key. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(@Inject(AUTH_OPTIONS) options: AuthOptions) {
    const publicKey = options.publicKeyPem ? createPublicKey(options.publicKeyPem) : null;
    const keySource = options.jwksUri
      ? {
          secretOrKeyProvider: passportJwtSecret({
            jwksUri: options.jwksUri,
            cache: true,
            rateLimit: true,
            jwksRequestsPerMinute: 10,
          }),
        }
      : {
          // A KeyObject parsed once: given the PEM string, jsonwebtoken would parse it again on
          // every request (measured at ~7% of a consent command's CPU).
          secretOrKeyProvider: (
            _request: unknown,
            _token: unknown,
            done: (error: null, key: KeyObject) => void,
          ) => done(null, publicKey as KeyObject),
        };
    super({
      jwtFromRequest: bearerToken,
      // validate() needs the request to remember the token it verified.
      passReqToCallback: true,
      ignoreExpiration: false,
      algorithms: [...ACCEPTED_ALGORITHMS],
      issuer: options.issuer,
      audience: options.audience,
      jsonWebTokenOptions: { clockTolerance: 30 },
      ...keySource,
    } as StrategyOptionsWithRequest);
  }

  /** A token verified before (and not yet expired) is accepted without verifying it again. */
  override authenticate(request: Parameters<typeof bearerToken>[0], options?: unknown): void {
    const token = bearerToken(request);
    const user = token === null ? null : this.verified.get(token);
    if (user !== null) {
      this.success(user);
      return;
    }
    super.authenticate(request, options);
  }

  validate(
    request: Parameters<typeof bearerToken>[0],
    payload: Record<string, unknown>,
  ): AuthenticatedUser {
    const user = userFromClaims(payload);
    const token = bearerToken(request);
    if (token !== null) this.verified.remember(token, payload, user);
    return user;
  }
}

/** Turns verified claims into the caller, refusing tokens that do not say who and what they are. */
export function userFromClaims(payload: Record<string, unknown>): AuthenticatedUser {
  const { sub, org, roles, teams, name } = payload;
  if (typeof sub !== 'string' || sub.length === 0)
    throw new UnauthorizedException('The token has no subject (sub).');
  if (typeof org !== 'string' || org.length === 0)
    throw new UnauthorizedException('The token has no organisation (org).');
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => isOneOf(ROLES, r))) {
    throw new UnauthorizedException(
      `The token's roles must be a non-empty list of: ${ROLES.join(', ')}.`,
    );
  }
  if ((roles as Role[]).includes('service_user') && !isValidNhsNumber(sub)) {
    throw new UnauthorizedException(
      'A service user token must carry a valid NHS number as its subject.',
    );
  }
  const teamList = Array.isArray(teams)
    ? teams.filter((t): t is string => typeof t === 'string')
    : [];
  return {
    userId: sub,
    org,
    roles: roles as Role[],
    teams: teamList,
    ...(typeof name === 'string' ? { name } : {}),
  };
}
