import { createServer, type Server } from 'node:http';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Controller, Get } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import {
  AllExceptionsFilter,
  AuthModule,
  createLogger,
  CurrentUser,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  Public,
  Roles,
  type AuthenticatedUser,
  type AuthOptions,
} from '#common';

@Controller()
class ProbeController {
  @Public()
  @Get('open')
  open(): { open: true } {
    return { open: true };
  }

  @Get('v1/anyone')
  anyone(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  @Get('v1/ig-only')
  @Roles('ig_officer', 'caldicott_guardian')
  igOnly(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }
}

function keyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

async function boot(options: AuthOptions): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [AuthModule.forRoot(options)],
    controllers: [ProbeController],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalFilters(new AllExceptionsFilter(createLogger('auth-test', 'silent')));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const trusted = keyPair();
const stranger = keyPair();
const claims = { org: 'X26', roles: ['social_worker'], teams: ['north'] };
const sign = (payload: object, key = trusted.privateKey, options: jwt.SignOptions = {}): string =>
  jwt.sign(payload, key, {
    algorithm: 'RS256',
    subject: 'sw-7',
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    expiresIn: '5m',
    ...options,
  });
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication with a configured public key', () => {
  let app: NestFastifyApplication;
  const get = (path: string, token?: string) => {
    const r = request(app.getHttpServer()).get(path);
    return token ? r.set('Authorization', `Bearer ${token}`) : r;
  };

  beforeAll(async () => {
    app = await boot({
      publicKeyPem: trusted.publicKey,
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
    });
  });
  afterAll(() => app.close());

  it('lets a public route through without a token', async () => {
    await get('/open').expect(200, { open: true });
  });

  it('refuses a missing token with 401 saying a token is required', async () => {
    const res = await get('/v1/anyone').expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'UNAUTHENTICATED', details: [] });
    expect(res.body.message).toMatch(/bearer token is required/i);
  });

  it('refuses an expired token', async () => {
    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    const expired = sign({ ...claims, iat: anHourAgo - 60 }, undefined, { expiresIn: 60 });
    expect((jwt.decode(expired) as jwt.JwtPayload).exp).toBe(anHourAgo);
    const res = await get('/v1/anyone', expired).expect(401);
    expect(res.body.message).toMatch(/expired/);
  });

  it('refuses a token signed by another key', async () => {
    const res = await get('/v1/anyone', sign(claims, stranger.privateKey)).expect(401);
    expect(res.body.message).toMatch(/signature is invalid/);
  });

  it('refuses an unsigned alg:none token', async () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      ...claims,
      sub: 'sw-7',
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 300,
    })}.`;
    const res = await get('/v1/anyone', none).expect(401);
    expect(res.body.message).toMatch(/accepted algorithm|could not be verified|malformed/);
  });

  it('refuses an HS256 token keyed with the public key (key confusion)', async () => {
    const confused = jwt.sign({ ...claims }, Buffer.from(trusted.publicKey), {
      algorithm: 'HS256',
      subject: 'sw-7',
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      expiresIn: '5m',
    });
    await get('/v1/anyone', confused).expect(401);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const audience = await get(
      '/v1/anyone',
      sign(claims, undefined, { audience: 'elsewhere' }),
    ).expect(401);
    expect(audience.body.message).toMatch(/audience/);
    const issuer = await get(
      '/v1/anyone',
      sign(claims, undefined, { issuer: 'https://evil.example' }),
    ).expect(401);
    expect(issuer.body.message).toMatch(/issuer/);
  });

  it('refuses tokens that do not say who and what the caller is', async () => {
    const unknownRole = await get('/v1/anyone', sign({ org: 'X26', roles: ['superuser'] })).expect(
      401,
    );
    expect(unknownRole.body.message).toMatch(/roles must be/);
    const noOrg = await get('/v1/anyone', sign({ roles: ['social_worker'] })).expect(401);
    expect(noOrg.body.message).toMatch(/organisation/);
    const badServiceUser = await get(
      '/v1/anyone',
      sign({ org: 'X26', roles: ['service_user'] }, undefined, { subject: '1234567890' }),
    ).expect(401);
    expect(badServiceUser.body.message).toMatch(/NHS number/);
  });

  it('accepts a valid token and exposes the caller', async () => {
    const res = await get('/v1/anyone', sign(claims)).expect(200);
    expect(res.body).toEqual({
      userId: 'sw-7',
      org: 'X26',
      roles: ['social_worker'],
      teams: ['north'],
    });
    const person = await get(
      '/v1/anyone',
      sign({ org: 'X26', roles: ['service_user'] }, undefined, { subject: '9434765919' }),
    ).expect(200);
    expect(person.body.userId).toBe('9434765919');
  });

  it('answers 403 naming the roles required when the role may not act', async () => {
    const res = await get('/v1/ig-only', sign(claims)).expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'ROLE_NOT_PERMITTED', details: [] });
    expect(res.body.message).toBe(
      'This action needs one of the roles: ig_officer, caldicott_guardian.',
    );
    await get('/v1/ig-only', sign({ org: 'X26', roles: ['ig_officer'] })).expect(200);
  });
});

describe('authentication against an OIDC provider’s JWKS', () => {
  let app: NestFastifyApplication;
  let jwks: Server;

  beforeAll(async () => {
    const jwk = {
      ...createPublicKey(trusted.publicKey).export({ format: 'jwk' }),
      kid: 'k1',
      use: 'sig',
      alg: 'RS256',
    };
    jwks = createServer((_, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    app = await boot({
      jwksUri: `http://127.0.0.1:${port}/jwks.json`,
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  it('accepts a token signed by the published key and refuses others', async () => {
    const server = app.getHttpServer();
    const good = sign(claims, undefined, { keyid: 'k1' });
    const res = await request(server)
      .get('/v1/anyone')
      .set('Authorization', `Bearer ${good}`)
      .expect(200);
    expect(res.body.userId).toBe('sw-7');
    const forged = sign(claims, stranger.privateKey, { keyid: 'k1' });
    await request(server).get('/v1/anyone').set('Authorization', `Bearer ${forged}`).expect(401);
    const unknownKid = sign(claims, stranger.privateKey, { keyid: 'k2' });
    await request(server)
      .get('/v1/anyone')
      .set('Authorization', `Bearer ${unknownKid}`)
      .expect(401);
  });
});
