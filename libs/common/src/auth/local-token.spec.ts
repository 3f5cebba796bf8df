import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from './auth.options';
import { ensureLocalKeyPair } from './local-keys';
import { parseTokenArgs, signLocalToken } from './local-token';
import { canActOnSubject } from './subject-access';

describe('local development tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates the key pair once, private key readable by the owner only', () => {
    const first = ensureLocalKeyPair(dir);
    const second = ensureLocalKeyPair(dir);
    expect(second).toEqual(first);
    expect(statSync(join(dir, 'keys', 'jwt-private.pem')).mode & 0o777).toBe(0o600);
    expect(first.kid).toHaveLength(16);
  });

  it('signs tokens the public key verifies, with the local issuer and audience', () => {
    const keys = ensureLocalKeyPair(dir);
    const token = signLocalToken(
      keys,
      parseTokenArgs([
        '--sub',
        'sw-1',
        '--org',
        'X26',
        '--roles',
        'social_worker,practitioner',
        '--teams',
        'east,west',
      ]),
    );
    const claims = jwt.verify(token, keys.publicKeyPem, {
      algorithms: ['RS256'],
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
    }) as jwt.JwtPayload;
    expect(claims).toMatchObject({
      sub: 'sw-1',
      org: 'X26',
      roles: ['social_worker', 'practitioner'],
      teams: ['east', 'west'],
    });
    expect(jwt.decode(token, { complete: true })?.header.kid).toBe(keys.kid);
  });

  it.each([
    [['--org', 'X26', '--roles', 'admin'], /missing --sub/],
    [
      ['--sub', 'a', '--org', 'X26', '--roles', 'admin,wizard'],
      /unknown role\(s\) wizard; valid roles: social_worker/,
    ],
    [['--sub', '123', '--org', 'X26', '--roles', 'service_user'], /valid NHS number/],
    [['--sub', 'a', '--org', 'X26', '--roles', 'admin', '--expires-in', 'forever'], /--expires-in/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});

describe('canActOnSubject', () => {
  const person = { userId: '9434765919', org: 'X26', roles: ['service_user' as const], teams: [] };
  it('lets a service user act on their own record only', () => {
    expect(canActOnSubject(person, '9434765919')).toBe(true);
    expect(canActOnSubject(person, '9434765870')).toBe(false);
  });
  it('lets staff act on anyone (resource checks follow)', () => {
    expect(
      canActOnSubject({ ...person, userId: 'sw', roles: ['social_worker'] }, '9434765870'),
    ).toBe(true);
  });
});
