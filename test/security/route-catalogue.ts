import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type { Client } from 'pg';
import { ROLES, type Logger, type Role } from '#common';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootAudit } from '../support/audit-app';
import { bootGateway } from '../support/gateway-app';
import { bootServiceForTest } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';

/** One operation of a service's OpenAPI document. */
export interface Operation {
  /** `METHOD /path/{param}`, as the access table names it. */
  key: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  parameters: Parameter[];
  /** The JSON schema of the body, `$ref`s resolved; undefined when the route takes none. */
  body?: JsonSchema;
  /** The operation's own security requirements; undefined when the document-wide one applies. */
  security?: unknown[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  example?: unknown;
  $ref?: string;
  allOf?: JsonSchema[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface RawOperation {
  operationId: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json'?: { schema: JsonSchema } } };
}

/** Who may call an operation: nobody needs a token, any valid token, or one of these roles. */
export type Access =
  | { kind: 'public'; why: string }
  | { kind: 'any-role'; why: string }
  | { kind: 'roles'; roles: readonly Role[] };

const STAFF: readonly Role[] = [
  'social_worker',
  'practitioner',
  'safeguarding_lead',
  'ig_officer',
  'caldicott_guardian',
  'admin',
];
const roles = (...r: Role[]): Access => ({ kind: 'roles', roles: r });

// Open without a token: the platform's probes must work before any identity provider does.
const PLATFORM: Record<string, Access> = {
  'GET /health/live': { kind: 'public', why: 'liveness probe for the orchestrator' },
  'GET /health/ready': { kind: 'public', why: 'readiness probe for the orchestrator' },
  'GET /v1/me': {
    kind: 'any-role',
    why: 'tells an integrator what its own token is accepted as; reveals nothing else',
  },
};

/**
 * The access rules of every operation, from API.md where it names the roles and from the
 * routes' purpose otherwise. A route added to a service's OpenAPI document fails the sweep until
 * it is classified here, so a new public or unguarded route is always a reviewed decision.
 */
export const ACCESS: Record<ServiceName, Record<string, Access>> = {
  'consent-service': {
    ...PLATFORM,
    'POST /v1/subjects/{subjectId}/consents': roles('social_worker', 'practitioner'),
    'POST /v1/subjects/{subjectId}/consents/{consentId}/withdrawal': roles(
      'social_worker',
      'practitioner',
      'service_user',
    ),
    'POST /v1/subjects/{subjectId}/objections': roles(
      'social_worker',
      'practitioner',
      'service_user',
    ),
    'POST /v1/subjects/{subjectId}/objections/{objectionId}/decision': roles(
      'ig_officer',
      'caldicott_guardian',
    ),
    'POST /v1/subjects/{subjectId}/objections/{objectionId}/withdrawal': roles(
      'social_worker',
      'practitioner',
      'service_user',
    ),
    'PUT /v1/subjects/{subjectId}/national-opt-out': roles('social_worker', 'service_user'),
    'PUT /v1/subjects/{subjectId}/contact-preferences': roles('social_worker', 'service_user'),
    'POST /v1/subjects/{subjectId}/proxies': roles('social_worker', 'practitioner'),
    'POST /v1/subjects/{subjectId}/proxies/{proxyId}/revocation': roles(
      'social_worker',
      'practitioner',
    ),
    'GET /v1/subjects/{subjectId}/consent-state': roles(...STAFF, 'system', 'service_user'),
    'GET /v1/subjects/{subjectId}/history': roles(...STAFF, 'system', 'service_user'),
    'GET /fhir/Consent': roles(...STAFF, 'system', 'service_user'),
  },
  'sharing-gateway': {
    ...PLATFORM,
    'PUT /v1/organisations/{odsCode}': roles('admin', 'ig_officer'),
    'GET /v1/organisations/{odsCode}': roles(...STAFF, 'system'),
    'PUT /v1/users/{userId}': roles('admin', 'ig_officer'),
    'GET /v1/users/{userId}': roles(...STAFF),
    'POST /v1/agreements': roles('admin', 'ig_officer'),
    'GET /v1/agreements': roles(...STAFF, 'system'),
    'PATCH /v1/agreements/{agreementId}': roles('admin', 'ig_officer'),
    'GET /v1/agreements/{agreementId}': roles(...STAFF, 'system'),
    'POST /v1/relationships': roles('admin', 'ig_officer'),
    'GET /v1/relationships': roles(...STAFF),
    'DELETE /v1/relationships/{relationshipId}': roles('admin', 'ig_officer'),
    'POST /v1/access-grants': roles('admin', 'ig_officer'),
    'GET /v1/access-grants': roles('admin', 'ig_officer', 'caldicott_guardian'),
    'POST /v1/decisions': roles(...STAFF, 'system'),
    // API.md: "ig_officer, the requester"; the guard admits deciders, the handler the requester.
    'GET /v1/decisions/{decisionId}': roles(...STAFF, 'system'),
    'POST /v1/decisions/{decisionId}/replay': roles('ig_officer'),
    'GET /v1/subjects/{subjectId}/record': roles(...STAFF, 'system'),
  },
  'audit-service': {
    ...PLATFORM,
    'GET /v1/audit/entries': roles('ig_officer', 'caldicott_guardian'),
    // The person checks a proof of their own disclosure offline, so they need heads and keys.
    'GET /v1/audit/tree-heads/latest': roles(
      'ig_officer',
      'caldicott_guardian',
      'system',
      'service_user',
    ),
    'GET /v1/audit/keys': roles('ig_officer', 'caldicott_guardian', 'system', 'service_user'),
    'GET /v1/audit/entries/{seq}/proof': roles(
      'ig_officer',
      'caldicott_guardian',
      'system',
      'service_user',
    ),
    'GET /v1/audit/consistency': roles('ig_officer', 'caldicott_guardian', 'system'),
    'POST /v1/audit/verify': roles('ig_officer'),
    'GET /v1/subjects/{subjectId}/disclosures': roles(
      'ig_officer',
      'caldicott_guardian',
      'service_user',
    ),
    'GET /v1/reports/break-glass': roles('ig_officer', 'caldicott_guardian'),
    'POST /v1/reports/break-glass/{decisionId}/review': roles('ig_officer', 'caldicott_guardian'),
    'GET /v1/reports/confidentiality': roles('ig_officer', 'caldicott_guardian'),
    'GET /v1/reports/information-flows': roles('ig_officer', 'caldicott_guardian'),
    'GET /v1/reports/recertification': roles('ig_officer', 'caldicott_guardian'),
    'PUT /v1/reports/staff-subjects/{nhsNumber}': roles('ig_officer'),
    'PUT /v1/reports/surnames/{kind}/{id}': roles('ig_officer'),
    'GET /v1/notifications': roles('ig_officer', 'caldicott_guardian'),
    'GET /v1/notifications/deferral-reviews': roles('ig_officer', 'caldicott_guardian'),
    'GET /v1/notifications/{id}': roles('ig_officer', 'caldicott_guardian'),
    'POST /v1/notifications/{id}/deferral': roles('ig_officer', 'caldicott_guardian'),
    'GET /fhir/AuditEvent': roles('ig_officer', 'service_user'),
  },
};

/**
 * Served outside the OpenAPI document yet open without a token (checked separately): the
 * document itself, its UI and the Prometheus scrape.
 */
export const PUBLIC_OUTSIDE_DOCUMENT = ['/docs-json', '/docs', '/metrics'];

export type ServiceName = 'consent-service' | 'sharing-gateway' | 'audit-service';
export const SERVICE_NAMES: readonly ServiceName[] = [
  'consent-service',
  'sharing-gateway',
  'audit-service',
];
export const SCHEMA_OF: Record<ServiceName, string> = {
  'consent-service': 'consent',
  'sharing-gateway': 'gateway',
  'audit-service': 'audit',
};

/** A service running in-process on its own fresh database. */
export interface RunningService {
  name: ServiceName;
  app: NestFastifyApplication;
  url: string;
  stop: () => Promise<void>;
}

/** Boots one service alone on its own database, so nothing but its own requests writes there. */
export async function bootAlone(name: ServiceName): Promise<RunningService> {
  const db = await createTestDatabase(`sec${SCHEMA_OF[name]}`);
  const app =
    name === 'consent-service'
      ? (
          await bootServiceForTest({
            definition: ConsentServiceDefinition,
            envSchema: ConsentServiceEnv,
            url: db.url,
            appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
          })
        ).app
      : name === 'sharing-gateway'
        ? await bootGateway(db.url)
        : await bootAudit(db.url);
  return {
    name,
    app,
    url: db.url,
    stop: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/** Reads a service's OpenAPI document, as served, into its operations. */
export async function operationsOf(app: NestFastifyApplication): Promise<Operation[]> {
  const response = await request(app.getHttpServer()).get('/docs-json').expect(200);
  const doc = response.body as OpenApiDocument;
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      const target = doc.components?.schemas?.[name];
      if (!target) throw new Error(`unresolved schema ${schema.$ref}`);
      return resolve(target);
    }
    // Nest's swagger wraps a described nested DTO as allOf of its one $ref.
    if (schema.allOf?.length === 1) {
      const { allOf, ...rest } = schema;
      return { ...rest, ...resolve(allOf[0]) };
    }
    return {
      ...schema,
      ...(schema.items ? { items: resolve(schema.items) } : {}),
      ...(schema.properties
        ? {
            properties: Object.fromEntries(
              Object.entries(schema.properties).map(([k, v]) => [k, resolve(v)]),
            ),
          }
        : {}),
    };
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const body = raw.requestBody?.content['application/json']?.schema;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method as Operation['method'],
        path,
        operationId: raw.operationId,
        parameters: (raw.parameters ?? []).map((p) => ({ ...p, required: Boolean(p.required) })),
        body: body ? resolve(body) : undefined,
        security: raw.security,
      });
    }
  }
  return operations;
}

export const PERSON = '9434765919';
export const OTHER_PERSON = '9000000009';

/** A value of the right shape for a path parameter, by its name, so the route is reached. */
export function validPathValue(name: string): string {
  if (/subjectId|nhsNumber/i.test(name)) return PERSON;
  if (name === 'odsCode') return 'X26';
  if (name === 'userId') return 'sw-1';
  if (name === 'seq') return '1';
  if (name === 'kind') return 'user';
  if (name === 'id' || /Id$/.test(name)) return randomUUID();
  return 'x';
}

/** The path with every `{param}` replaced by `valueOf(param)`, URL-encoded. */
export function fillPath(path: string, valueOf: (name: string) => string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(valueOf(name)));
}

/** Roles that the access rule refuses, in the order a sweep should try them. */
export function refusedRoles(access: Access): Role[] {
  if (access.kind !== 'roles') return [];
  return ROLES.filter((r) => !access.roles.includes(r));
}

/**
 * A role the rule admits, preferring staff (so per-person checks for service users do not
 * stand in the way of what is being tested).
 */
export function admittedRole(access: Access): Role {
  if (access.kind !== 'roles') return 'social_worker';
  const preference: Role[] = [
    'ig_officer',
    'admin',
    'social_worker',
    'practitioner',
    'caldicott_guardian',
    'safeguarding_lead',
    'system',
    'service_user',
  ];
  const role = preference.find((r) => access.roles.includes(r));
  if (!role) throw new Error('an access rule with no roles');
  return role;
}

/** A fingerprint of every table in a schema: row count and a digest of the rows' text. */
export async function snapshotSchema(client: Client, schema: string): Promise<Map<string, string>> {
  const tables = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  if (tables.rows.length === 0) throw new Error(`schema ${schema} has no tables`);
  const parts = tables.rows.map(
    (t, i) =>
      `SELECT ${i} AS i, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS f
         FROM "${schema}"."${t.table_name}" x`,
  );
  const rows = await client.query<{ i: number; f: string }>(parts.join(' UNION ALL '));
  const out = new Map<string, string>();
  for (const row of rows.rows) out.set(tables.rows[row.i].table_name, row.f);
  return out;
}

/** Names of tables whose fingerprint differs between two snapshots. */
export function changedTables(
  before: Map<string, string>,
  after: Map<string, string>,
  ignore: ReadonlySet<string> = new Set(),
): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => !ignore.has(n) && before.get(n) !== after.get(n)).sort();
}
