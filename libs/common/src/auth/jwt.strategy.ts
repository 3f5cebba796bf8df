import { createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { isValidNhsNumber } from '../contracts/nhs-number';
import { isOneOf, ROLES, type Role } from '../contracts/vocabulary';
import { ACCEPTED_ALGORITHMS, type AuthOptions } from './auth.options';
import type { AuthenticatedUser } from './authenticated-user';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

/** Verifies bearer JWTs against the JWKS or the configured public key. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
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
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      algorithms: [...ACCEPTED_ALGORITHMS],
      issuer: options.issuer,
      audience: options.audience,
      jsonWebTokenOptions: { clockTolerance: 30 },
      ...keySource,
    } as StrategyOptionsWithoutRequest);
  }

  validate(payload: Record<string, unknown>): AuthenticatedUser {
    return userFromClaims(payload);
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
