import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { isValidNhsNumber } from '../contracts/nhs-number';
import { isOneOf, ROLES, type Role } from '../contracts/vocabulary';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from './auth.options';
import type { LocalKeyPair } from './local-keys';

/** What a development token asserts about its holder. */
export interface LocalTokenRequest {
  sub: string;
  org: string;
  roles: Role[];
  teams: string[];
  name?: string;
  expiresIn: string;
}

/** Reads `--sub U --org ORG --roles r1,r2 [--teams t1] [--name N] [--expires-in 8h]`. */
export function parseTokenArgs(argv: string[]): LocalTokenRequest {
  const { values } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' },
      org: { type: 'string' },
      roles: { type: 'string' },
      teams: { type: 'string' },
      name: { type: 'string' },
      'expires-in': { type: 'string', default: '8h' },
    },
    strict: true,
  });
  const missing = (['sub', 'org', 'roles'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new Error(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  const roles = String(values.roles)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = roles.filter((r) => !isOneOf(ROLES, r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new Error(
      `unknown role(s) ${unknown.join(', ') || '(none given)'}; valid roles: ${ROLES.join(', ')}`,
    );
  }
  const sub = String(values.sub);
  if (roles.includes('service_user') && !isValidNhsNumber(sub)) {
    throw new Error('a service_user token needs a valid NHS number as --sub');
  }
  if (!/^\d+[smhd]$/.test(String(values['expires-in']))) {
    throw new Error('--expires-in must look like 30m, 8h or 2d');
  }
  return {
    sub,
    org: String(values.org),
    roles: roles as Role[],
    teams: values.teams
      ? values.teams
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : [],
    ...(values.name ? { name: values.name } : {}),
    expiresIn: String(values['expires-in']),
  };
}

/** Signs a development token with the local key pair; services in the embedded setup accept it. */
export function signLocalToken(keys: LocalKeyPair, request: LocalTokenRequest): string {
  const claims: Record<string, unknown> = {
    org: request.org,
    roles: request.roles,
    teams: request.teams,
  };
  if (request.name) claims.name = request.name;
  return jwt.sign(claims, keys.privateKeyPem, {
    algorithm: 'RS256',
    keyid: keys.kid,
    subject: request.sub,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    expiresIn: request.expiresIn as jwt.SignOptions['expiresIn'],
  });
}
