import { generateKeyPairSync } from 'node:crypto';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, PUBLIC_KEY, ROLES_KEY, ROLES, type Role } from '#common';
import { testDataDir } from '../support/service-app';
import { tokenFor } from '../support/tokens';
import {
  ACCESS,
  OTHER_PERSON,
  PERSON,
  PUBLIC_OUTSIDE_DOCUMENT,
  SERVICE_NAMES,
  admittedRole,
  bootAlone,
  fillPath,
  operationsOf,
  refusedRoles,
  validPathValue,
  type Access,
  type Operation,
  type RunningService,
} from './route-catalogue';

jest.setTimeout(180_000);

/** A token for `role` alone; a service user's subject is the person the paths name. */
const tokenAs = (role: Role) =>
  tokenFor(testDataDir(), {
    sub: role === 'service_user' ? PERSON : `sec-${role}`,
    org: 'X26',
    roles: [role],
  });

/** A well-formed token for an admin, signed by a key no service trusts. */
function tokenFromUnknownKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return jwt.sign({ org: 'X26', roles: ['admin'], teams: [] }, privateKey, {
    algorithm: 'RS256',
    subject: 'intruder',
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    expiresIn: 600,
  });
}

function send(app: NestFastifyApplication, op: Operation, token?: string) {
  const agent = request(app.getHttpServer());
  const call = agent[op.method](fillPath(op.path, validPathValue));
  if (token !== undefined) void call.set('Authorization', `Bearer ${token}`);
  return call;
}

/** What is wrong with an error response, against API.md's error format; null when nothing. */
function errorShapeProblem(res: request.Response, status: number, code: string): string | null {
  if (res.status !== status) return `status ${res.status}, expected ${status}`;
  if (!/^application\/json/.test(String(res.headers['content-type'])))
    return `content-type ${res.headers['content-type']}`;
  const body = res.body as Record<string, unknown>;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'correlationId,details,error,message,statusCode') return `body keys ${keys}`;
  if (body.statusCode !== status) return `body statusCode ${String(body.statusCode)}`;
  if (body.error !== code) return `body error ${String(body.error)}, expected ${code}`;
  if (typeof body.message !== 'string' || body.message.length < 10)
    return `body message ${JSON.stringify(body.message)}`;
  if (!Array.isArray(body.details) || body.details.length !== 0)
    return `body details ${JSON.stringify(body.details)}`;
  if (body.correlationId !== res.headers['x-correlation-id']) return 'correlationId not echoed';
  return null;
}

/** The access a route declares in code: `@Public()`, `@Roles(...)` or neither. */
function declaredAccess(app: NestFastifyApplication, operationId: string): string {
  const [className, methodName] = operationId.split('_');
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new () => unknown) | null;
      if (type?.name !== className) continue;
      const handler = (type.prototype as Record<string, unknown>)[methodName] as object;
      const targets = [handler, type];
      if (targets.some((t) => Reflect.getMetadata(PUBLIC_KEY, t) === true)) return 'public';
      const roles = targets
        .map((t) => Reflect.getMetadata(ROLES_KEY, t) as Role[] | undefined)
        .find((r) => r !== undefined);
      return roles && roles.length > 0 ? [...roles].sort().join(',') : 'any-role';
    }
  }
  return `no controller for ${operationId}`;
}

const expectedDeclaration = (access: Access) =>
  access.kind === 'roles' ? [...access.roles].sort().join(',') : access.kind;

describe.each(SERVICE_NAMES)('%s route access', (name) => {
  let service: RunningService;
  let operations: Operation[];
  const table = ACCESS[name];

  beforeAll(async () => {
    service = await bootAlone(name);
    operations = await operationsOf(service.app);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('classifies every operation of its OpenAPI document, and nothing more', () => {
    const documented = operations.map((o) => o.key).sort();
    expect(documented).toEqual(Object.keys(table).sort());
    // Sanity: the document is the real one, not an empty shell.
    expect(documented.length).toBeGreaterThan(5);
  });

  it('declares in code (@Public / @Roles) exactly the access the table classifies', () => {
    const mismatches = operations
      .filter((op) => table[op.key])
      .map((op) => ({
        op: op.key,
        declared: declaredAccess(service.app, op.operationId),
        expected: expectedDeclaration(table[op.key]),
      }))
      .filter((m) => m.declared !== m.expected);
    expect(mismatches).toEqual([]);
  });

  it('answers public operations, and the document and metrics, without a token', async () => {
    const publicOps = operations.filter((op) => table[op.key]?.kind === 'public');
    expect(publicOps.map((o) => o.key).sort()).toEqual(['GET /health/live', 'GET /health/ready']);
    // The document must tell clients the same: no token needed here, a bearer token elsewhere.
    expect(publicOps.map((o) => ({ op: o.key, security: o.security }))).toEqual(
      publicOps.map((o) => ({ op: o.key, security: [] })),
    );
    expect(operations.filter((o) => o.security?.length === 0).map((o) => o.key)).toEqual(
      publicOps.map((o) => o.key),
    );
    for (const op of publicOps) {
      const res = await send(service.app, op);
      expect({ op: op.key, status: res.status }).toEqual({ op: op.key, status: 200 });
    }
    for (const path of PUBLIC_OUTSIDE_DOCUMENT) {
      const res = await request(service.app.getHttpServer()).get(path).redirects(1);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it('answers 401 UNAUTHENTICATED in the error format to every other operation without a valid token', async () => {
    const guarded = operations.filter((op) => table[op.key]?.kind !== 'public');
    expect(guarded.length).toBeGreaterThan(0);
    const unknownKey = tokenFromUnknownKey();
    const valid = tokenAs('admin');
    const tampered = valid.replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
    const problems: string[] = [];
    for (const op of guarded) {
      for (const [label, token] of [
        ['no token', undefined],
        ['malformed token', 'not-a-jwt'],
        ['tampered signature', tampered],
        ['unknown signing key', unknownKey],
      ] as const) {
        const res = await send(service.app, op, token);
        const problem = errorShapeProblem(res, 401, 'UNAUTHENTICATED');
        if (problem) problems.push(`${op.key} (${label}): ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers 403 ROLE_NOT_PERMITTED in the error format to every role with no business there', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const op of operations) {
      const access = table[op.key];
      if (!access) continue;
      for (const role of refusedRoles(access)) {
        checked += 1;
        const res = await send(service.app, op, tokenAs(role));
        const problem = errorShapeProblem(res, 403, 'ROLE_NOT_PERMITTED');
        if (problem) problems.push(`${op.key} as ${role}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(operations.length);
  });

  it('answers a route it does not have with 404 in the error format, token or not', async () => {
    const problems: string[] = [];
    for (const [method, path] of [
      ['get', '/v1/not-a-route'],
      ['delete', '/v1/me'],
      ['post', '/health/live'],
    ] as const) {
      for (const token of [undefined, tokenAs('admin')]) {
        const call = request(service.app.getHttpServer())[method](path);
        if (token) void call.set('Authorization', `Bearer ${token}`);
        const res = await call;
        const body = res.body as Record<string, unknown>;
        if (res.status !== 404 || body.statusCode !== 404 || !Array.isArray(body.details)) {
          problems.push(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses a service user every other person’s record where the route names a person', async () => {
    // Reads that admit a service user and name the person in the path or the `patient` query.
    const personal = operations.filter((op) => {
      const access = table[op.key];
      return (
        op.method === 'get' &&
        access?.kind === 'roles' &&
        access.roles.includes('service_user') &&
        op.parameters.some((p) => p.name === 'subjectId' || p.name === 'patient')
      );
    });
    const problems: string[] = [];
    for (const op of personal) {
      for (const [subject, expectRefused] of [
        [OTHER_PERSON, true],
        [PERSON, false],
      ] as const) {
        const path = fillPath(op.path, (p) => (p === 'subjectId' ? subject : validPathValue(p)));
        const res = await request(service.app.getHttpServer())
          .get(path)
          .query(op.parameters.some((p) => p.name === 'patient') ? { patient: subject } : {})
          .set('Authorization', `Bearer ${tokenAs('service_user')}`);
        const refused = res.status === 403;
        if (refused !== expectRefused || res.status >= 500) {
          problems.push(`${op.key} for ${subject}: ${res.status} ${String(res.body.error)}`);
        }
        if (refused) {
          const body = res.body as Record<string, unknown>;
          if (typeof body.error !== 'string' || !Array.isArray(body.details))
            problems.push(`${op.key} for ${subject}: 403 body ${JSON.stringify(body)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    if (name !== 'sharing-gateway') expect(personal.length).toBeGreaterThan(0);
  });

  it('lets every admitted role past the role check, and never answers 5xx', async () => {
    const problems: string[] = [];
    for (const op of operations) {
      const access = table[op.key];
      if (!access || access.kind === 'public') continue;
      const admitted = access.kind === 'roles' ? access.roles : ROLES;
      for (const role of admitted) {
        const res = await send(service.app, op, tokenAs(role));
        const code = (res.body as { error?: unknown }).error;
        if (res.status === 401 || code === 'ROLE_NOT_PERMITTED' || res.status >= 500) {
          problems.push(`${op.key} as ${role}: ${res.status} ${String(code)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // Which role the generated-request sweep uses must itself be admitted.
    for (const op of operations) {
      const access = table[op.key];
      if (access?.kind === 'roles') expect(access.roles).toContain(admittedRole(access));
    }
  });
});
