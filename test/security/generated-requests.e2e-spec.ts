import fc from 'fast-check';
import { Client } from 'pg';
import request from 'supertest';
import type { Role } from '#common';
import { testDataDir } from '../support/service-app';
import { tokenFor } from '../support/tokens';
import {
  ACCESS,
  OTHER_PERSON,
  PERSON,
  SCHEMA_OF,
  SERVICE_NAMES,
  admittedRole,
  bootAlone,
  changedTables,
  fillPath,
  operationsOf,
  snapshotSchema,
  type JsonSchema,
  type Operation,
  type RunningService,
  type ServiceName,
} from './route-catalogue';

// Whole file well under 3 minutes on a loaded 2-core machine; raise locally to search harder.
jest.setTimeout(300_000);
// Fixed so a failure is reproduced by running the file again; SECURITY_SEED explores others.
const SEED = Number(process.env.SECURITY_SEED ?? 20261124);
const NUM_RUNS = Number(process.env.SECURITY_RUNS ?? 30);

/** A request as generated: path parameters, query, headers and body (absent when undefined). */
interface Generated {
  path: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

const MANY = 100_000;

/** A body sent exactly as written, for JSON that JavaScript values cannot easily be made into. */
class RawJson {
  constructor(readonly text: string) {}
}
const deeplyNested = (depth: number, open: string, inner: string, close: string) =>
  new RawJson(open.repeat(depth) + inner + close.repeat(depth));

/** Values no field should accept, but every field must refuse with a 4xx. */
const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ $gt: '' }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant(''),
  fc.constant('   '),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant('\u0000'),
  fc.constant('a\u0000b'),
  fc.constant('\ud800'),
  fc.constant('x'.repeat(MANY)),
  fc.constant('é'.repeat(MANY)),
  fc.constant("'; DROP TABLE x; --"),
  fc.constant('2026-02-30T00:00:00Z'),
  fc.constant('0001-01-01T00:00:00Z'),
  fc.constant('9999-12-31T23:59:59.999Z'),
  fc.constant('+275760-09-13T00:00:00.000Z'),
  fc.constant('-1'),
  fc.constant('0'),
  fc.constant('1e400'),
  fc.constant('99999999999999999999'),
  fc.constant('NaN'),
  fc.constant('__proto__'),
);

/** Query strings and headers carry text only; headers printable ASCII (HTTP refuses others). */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constant('\u0000'),
  fc.constant('x'.repeat(5_000)),
  fc.constant('-1'),
  fc.constant('0'),
  fc.constant('1.5'),
  fc.constant('1e400'),
  fc.constant('99999999999999999999'),
  fc.constant('9223372036854775808'),
  fc.constant('2026-02-30T00:00:00Z'),
  fc.constant('0001-01-01'),
  fc.constant('+275760-09-13T00:00:00.000Z'),
  fc.constant('NaN'),
  fc.constant("'; DROP TABLE x; --"),
  fc.constant('a,b,,c'),
);
const hostileHeader: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
  fc.constant('"-1"'),
  fc.constant('"99999999999999999999"'),
  fc.constant('W/"1"'),
  fc.constant('*'),
  fc.constant('x'.repeat(5_000)),
);

const isoInstant = fc
  .date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

const DATA_CATEGORIES = [
  'demographics',
  'contacts',
  'care-plan',
  'assessments',
  'case-notes',
  'financial',
  'safeguarding',
];

/** A plausible value for a field, by its schema and, where the schema says little, its name. */
function plausible(name: string, schema: JsonSchema = {}): fc.Arbitrary<unknown> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.type === 'boolean') return fc.boolean();
  if (schema.type === 'array') {
    return fc.uniqueArray(plausible(name, schema.items ?? {}), { minLength: 1, maxLength: 3 });
  }
  if (schema.type === 'object' || schema.properties) return plausibleObject(schema);
  if (/subjectId|nhsNumber|patient/i.test(name)) return fc.constantFrom(PERSON, OTHER_PERSON);
  if (/^(org|odsCode|recipientOrg)$/.test(name)) return fc.constantFrom('X26', 'RJ1');
  if (/^(party|parties|recipients)$/.test(name))
    return fc.constantFrom('X26', 'RJ1', 'kind:nhs-trust', 'kind:local-authority');
  if (/^(userId|approvedBy|onBehalfOf|actorId|teamId|teams)$/.test(name))
    return fc.constantFrom('sw-1', 'cg-1', 'team-north');
  if (/^id$|Id$/.test(name)) return fc.uuid().map(String);
  if (name === 'kind') return fc.constantFrom('user', 'subject');
  if (name === 'categories')
    return fc
      .uniqueArray(fc.constantFrom(...DATA_CATEGORIES), { minLength: 1 })
      .map((c) => c.join(','));
  if (name === 'type') return fc.constantFrom('allocated-worker', 'care-team');
  if (name === 'Idempotency-Key') return fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
  if (name === 'If-Match') return fc.integer({ min: 0, max: 4 }).map((n) => `"${n}"`);
  if (name === 'X-Break-Glass-Reason')
    return fc.constant('Police report an immediate risk of serious harm to the person');
  if (name === 'X-Break-Glass-Statute')
    return fc.constantFrom('care-act-2014-s42', 'children-act-1989-s47');
  if (/^(from|to|treeSize|seq)$/.test(name))
    // Tree sizes for the log, instants for the reports: both shapes reach both kinds of route.
    return fc.oneof(fc.integer({ min: 0, max: 5 }).map(String), isoInstant);
  if (/On$/.test(name)) return isoInstant.map((s) => s.slice(0, 10));
  if (schema.format === 'date-time' || /valid|asOf|reviewBy|At$/.test(name))
    return fc.oneof(
      isoInstant,
      isoInstant.map((s) => s.slice(0, 10)),
    );
  if (/^reason|notes$/.test(name))
    return fc.oneof(
      fc.constant('Police report an immediate risk of serious harm to the person'),
      text(schema),
    );
  if (/^(limit|_count)$/.test(name))
    return fc.oneof(fc.integer({ min: 0, max: 1001 }).map(String), fc.constantFrom('1', '1000'));
  if (name === 'email') return fc.constant('person@example.org');
  if (name === 'phone') return fc.constantFrom('07700900123', '+447700900123');
  if (name === 'country') return fc.constantFrom('GB', 'FR');
  if (schema.example !== undefined && typeof schema.example === 'string')
    return fc.oneof(fc.constant(schema.example), text(schema));
  return text(schema);
}

/** Text within a field's declared lengths, and exactly at and just past them. */
function text(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 1;
  const max = schema.maxLength ?? 60;
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 80) }) },
    { weight: 1, arbitrary: fc.constant('r'.repeat(min)) },
    { weight: 1, arbitrary: fc.constant('r'.repeat(max)) },
    { weight: 1, arbitrary: fc.constant('r'.repeat(max + 1)) },
    { weight: 1, arbitrary: fc.constant('r'.repeat(Math.max(0, min - 1))) },
  );
}

function plausibleObject(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const model = Object.fromEntries(
    Object.entries(properties).map(([k, s]) => [k, plausible(k, s)]),
  );
  return fc.record(model, { requiredKeys: schema.required ?? [] });
}

/** Dotted paths of every field of a body schema, nested objects included. */
function fieldPaths(schema: JsonSchema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([k, s]) => [
    prefix + k,
    ...(s.properties ? fieldPaths(s, `${prefix}${k}.`) : []),
  ]);
}

function withField(body: unknown, path: string, value: unknown, remove = false): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

/** Bodies: plausible, one field hostile, one field missing, one extra field, or no object. */
function bodies(schema: JsonSchema): fc.Arbitrary<unknown> {
  const valid = plausibleObject(schema);
  const paths = fieldPaths(schema);
  const hostileField = fc.oneof(hostileScalar, fc.array(hostileScalar, { maxLength: 3 }));
  const variants: fc.WeightedArbitrary<unknown>[] = [
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        deeplyNested(10_000, '[', '', ']'),
        deeplyNested(100_000, '{"a":', '1', '}'),
        deeplyNested(1, '{"reason":', '['.repeat(5_000) + ']'.repeat(5_000), '}'),
        new RawJson('{"__proto__":{"roles":["admin"]},"constructor":{"prototype":{"x":1}}}'),
        new RawJson('{"reason":"a","reason":"b"}'),
        new RawJson('{'),
        new RawJson(''),
        new RawJson(`{"reason":"${'x'.repeat(3 * 1024 * 1024)}"}`),
      ),
    },
    { weight: 3, arbitrary: valid },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.string({ minLength: 1 }), hostileField)
        .map(([b, k, v]) => ({ ...b, [k]: v })),
    },
    { weight: 1, arbitrary: hostileScalar },
  ];
  if (paths.length > 0) {
    variants.push(
      {
        weight: 4,
        arbitrary: fc
          .tuple(valid, fc.constantFrom(...paths), hostileField)
          .map(([b, p, v]) => withField(b, p, v)),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(valid, fc.constantFrom(...paths))
          .map(([b, p]) => withField(b, p, undefined, true)),
      },
    );
  }
  return fc.oneof(...variants);
}

/**
 * The generated requests for one operation: half entirely plausible (so requests get past
 * validation into the handlers and the database), half with hostile parts anywhere.
 */
function requestsFor(op: Operation, knownIds: Record<string, string[]>): fc.Arbitrary<Generated> {
  return fc.oneof(requestsOf(op, knownIds, false), requestsOf(op, knownIds, true));
}

function requestsOf(
  op: Operation,
  knownIds: Record<string, string[]>,
  hostile: boolean,
): fc.Arbitrary<Generated> {
  const path: Record<string, fc.Arbitrary<string>> = {};
  const query: Record<string, fc.Arbitrary<string | string[]>> = {};
  const headers: Record<string, fc.Arbitrary<string>> = {};
  const some = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
    hostile ? fc.oneof({ weight: 2, arbitrary: good }, { weight: 1, arbitrary: bad }) : good;
  for (const p of op.parameters) {
    if (p.in === 'path') {
      const known = knownIds[p.name] ?? [];
      const good = fc.oneof(
        plausible(p.name, p.schema).map(textOf),
        ...(known.length > 0 ? [fc.constantFrom(...known)] : []),
      );
      path[p.name] = some(
        good,
        fc.oneof(
          fc.uuid().map(String),
          hostileText.filter((s) => s.length > 0 && s.length < 90),
        ),
      );
    } else if (p.in === 'query') {
      // Cursors are opaque tokens the service made; only hostile requests invent them.
      if (!hostile && /cursor/.test(p.name)) continue;
      query[p.name] = some<string | string[]>(
        plausible(p.name, p.schema).map(textOf),
        fc.oneof(
          hostileText,
          // A repeated parameter reaches the handler as an array.
          fc.tuple(hostileText, hostileText).map(([a, b]) => [a, b]),
        ),
      );
    } else if (p.in === 'header') {
      headers[p.name] = some(
        plausible(p.name, p.schema).map(textOf).filter(isHeaderSafe),
        hostileHeader,
      );
    }
  }
  const queryRequired = op.parameters
    .filter((p) => p.in === 'query' && p.required)
    .map((p) => p.name);
  const queries = fc.record(query, { requiredKeys: hostile ? [] : queryRequired });
  return fc.record({
    path: fc.record(path),
    query: hostile
      ? fc
          .tuple(
            queries,
            // Now and then a parameter the operation does not know.
            fc.oneof(
              { weight: 4, arbitrary: fc.constant(null) },
              {
                weight: 1,
                arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileText),
              },
            ),
          )
          .map(([q, extra]) => (extra ? { ...q, [extra[0]]: extra[1] } : q))
      : queries,
    headers: fc.record(
      {
        ...headers,
        ...(hostile && op.body
          ? {
              'Content-Type': fc.constantFrom(
                'text/plain',
                'application/x-www-form-urlencoded',
                'application/json; charset=latin1',
                'application/merge-patch+json',
              ),
            }
          : {}),
      },
      { requiredKeys: [] },
    ),
    body: op.body ? (hostile ? bodies(op.body) : plausibleObject(op.body)) : fc.constant(undefined),
  });
}

/** A generated request, printable in a failure message (huge strings abbreviated). */
const printable = (g: Generated): string =>
  JSON.stringify(g, (_, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 20)}…(${v.length} chars)` : v,
  );

const textOf = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const isHeaderSafe = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Throws unless the body is API.md's error format for `status`. */
function assertErrorFormat(status: number, body: Record<string, unknown>): void {
  expect(body).toMatchObject({
    statusCode: status,
    error: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/),
    message: expect.any(String),
    details: expect.any(Array),
  });
  for (const d of body.details as unknown[]) {
    expect(d).toEqual({ field: expect.any(String), problem: expect.any(String) });
  }
}

/**
 * Refusals that are recorded by design: a record request that nothing permits is still a
 * decision, committed with its audit event before the 403 leaves (DESIGN.md, fail closed).
 */
function isRecordedRefusal(op: Operation, status: number, body: Record<string, unknown>): boolean {
  return (
    op.key === 'GET /v1/subjects/{subjectId}/record' &&
    status === 403 &&
    body.error === 'ACCESS_DENIED' &&
    typeof body.decisionId === 'string'
  );
}

/** Tables a service writes on its own, idle or not; not compared around a request. */
const IDLE_WRITES: Record<ServiceName, string[]> = {
  'consent-service': [],
  // When the consent replica last found nothing newer to read (consent-state-stale).
  'sharing-gateway': ['consent_replica_status'],
  // Signed tree heads are published on a timer.
  'audit-service': ['tree_heads'],
};

const SEEDERS: Partial<
  Record<ServiceName, (svc: RunningService) => Promise<Record<string, string[]>>>
> = {
  'consent-service': async (svc) => {
    const as = authed(svc, 'social_worker');
    const consent = await as
      .post(`/v1/subjects/${PERSON}/consents`)
      .send({
        decision: 'granted',
        purposes: ['direct-care'],
        recipients: ['kind:nhs-trust'],
        dataCategories: ['care-plan'],
        capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
      })
      .expect(201);
    const objection = await authed(svc, 'social_worker')
      .post(`/v1/subjects/${PERSON}/objections`)
      .send({
        purposes: ['research'],
        recipients: ['kind:research-body'],
        dataCategories: ['care-plan'],
        reason: 'Does not want the record used for research',
      })
      .expect(201);
    const proxy = await authed(svc, 'social_worker')
      .post(`/v1/subjects/${PERSON}/proxies`)
      .send({
        kind: 'deputy',
        name: 'A. Deputy',
        reference: 'COP-123',
        validFrom: '2026-01-01T00:00:00Z',
      })
      .expect(201);
    return {
      consentId: [consent.body.consentId],
      objectionId: [objection.body.objectionId],
      proxyId: [(proxy.body as { proxyId: string }).proxyId],
    };
  },
  'sharing-gateway': async (svc) => {
    await authed(svc, 'admin')
      .put('/v1/organisations/X26')
      .send({ name: 'Northshire Council', kind: 'local-authority', country: 'GB' })
      .expect(200);
    await authed(svc, 'admin')
      .put('/v1/users/sw-1')
      .send({
        org: 'X26',
        roles: ['social_worker'],
        teams: [],
        igTrainingCompletedOn: new Date().toISOString().slice(0, 10),
      })
      .expect(200);
    const agreement = await authed(svc, 'admin')
      .post('/v1/agreements')
      .send({
        title: 'Direct care',
        parties: ['kind:local-authority', 'kind:nhs-trust'],
        roles: ['social_worker', 'practitioner'],
        purposes: ['direct-care'],
        dataCategories: ['care-plan', 'assessments'],
        legalBasis: { article6: 'UK-GDPR-6-1-e', article9: 'UK-GDPR-9-2-h', statutes: [] },
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        status: 'active',
      })
      .expect(201);
    const relationship = await authed(svc, 'admin')
      .post('/v1/relationships')
      .send({
        userId: 'sw-1',
        subjectId: PERSON,
        type: 'allocated-worker',
        validFrom: '2026-01-01T00:00:00Z',
      })
      .expect(201);
    const decision = await authed(svc, 'social_worker', 'sw-1')
      .post('/v1/decisions')
      .send({ subjectId: PERSON, purposeOfUse: 'direct-care', dataCategories: ['care-plan'] })
      .expect(200);
    return {
      agreementId: [agreement.body.agreementId],
      relationshipId: [relationship.body.relationshipId],
      decisionId: [decision.body.decisionId],
      userId: ['sw-1'],
      odsCode: ['X26'],
    };
  },
};

function authed(svc: RunningService, role: Role, sub?: string) {
  const token = tokenFor(testDataDir(), {
    sub: sub ?? (role === 'service_user' ? PERSON : `sec-${role}`),
    org: 'X26',
    roles: [role],
  });
  const agent = request(svc.app.getHttpServer());
  const wrap = <T extends request.Test>(t: T) => t.set('Authorization', `Bearer ${token}`);
  return {
    get: (p: string) => wrap(agent.get(p)),
    post: (p: string) => wrap(agent.post(p)),
    put: (p: string) => wrap(agent.put(p)),
    patch: (p: string) => wrap(agent.patch(p)),
    delete: (p: string) => wrap(agent.delete(p)),
  };
}

// SECURITY_VERBOSE=1 prints how often each operation answered what, to see how deep requests get.
const seen = new Map<string, number>();
const tally = (key: string, status: number, code: unknown, details: unknown) => {
  const fields = Array.isArray(details)
    ? [...new Set(details.map((d: { field?: unknown }) => String(d.field)))].slice(0, 3).join(',')
    : '';
  const k = `${key} ${status}${typeof code === 'string' ? ` ${code}` : ''} ${fields}`;
  seen.set(k, (seen.get(k) ?? 0) + 1);
};
afterAll(() => {
  if (process.env.SECURITY_VERBOSE)
    process.stdout.write(
      [...seen]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${n}\t${k}`)
        .join('\n') + '\n',
    );
});

describe.each(SERVICE_NAMES)(`%s under generated requests (seed ${SEED})`, (name) => {
  let service: RunningService;
  let operations: Operation[];
  let db: Client;
  let knownIds: Record<string, string[]> = {};
  /** Tables the service writes on its own while idle (consumer checkpoints): not compared. */
  let background = new Set<string>();
  const schema = SCHEMA_OF[name];

  /** Own events not yet consumed by a consumer of this same service (the audit log's own). */
  async function unconsumed(): Promise<number> {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".outbox o
        WHERE EXISTS (SELECT 1 FROM "${schema}".consumer_checkpoints c
                       WHERE c.topic = o.topic AND c.last_position < o.global_position)`,
    );
    return Number(rows[0].n);
  }

  /**
   * Waits until work a 2xx set off after answering is done: the service's own events consumed
   * and the schema unchanged over two looks, so it is not blamed on the next request.
   */
  async function settle(): Promise<void> {
    let last = await snapshotSchema(db, schema);
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const next = await snapshotSchema(db, schema);
      if (changedTables(last, next, background).length === 0 && (await unconsumed()) === 0) return;
      last = next;
    }
    throw new Error(`${schema} kept changing while idle`);
  }

  beforeAll(async () => {
    service = await bootAlone(name);
    operations = (await operationsOf(service.app)).filter(
      (op) => ACCESS[name][op.key]?.kind !== 'public',
    );
    db = new Client({ connectionString: service.url });
    await db.connect();
    knownIds = (await SEEDERS[name]?.(service)) ?? {};
    const first = await snapshotSchema(db, schema);
    await new Promise((r) => setTimeout(r, 1_500));
    background = new Set([
      ...changedTables(first, await snapshotSchema(db, schema)),
      ...IDLE_WRITES[name],
    ]);
    await settle();
  });

  afterAll(async () => {
    await db?.end();
    await service?.stop();
  });

  it('has operations to generate requests for, and writes nothing unexpected while idle', () => {
    expect(operations.length).toBeGreaterThan(3);
    expect([...background].filter((t) => !IDLE_WRITES[name].includes(t))).toEqual([]);
  });

  it('never answers 5xx, and changes nothing when it answers 4xx', async () => {
    for (const op of operations) {
      const access = ACCESS[name][op.key];
      // Mostly the preferred admitted role; now and then any other the route admits.
      const admitted = access.kind === 'roles' ? access.roles : [admittedRole(access)];
      const roles = fc.oneof(
        { weight: 3, arbitrary: fc.constant(admittedRole(access)) },
        { weight: 1, arbitrary: fc.constantFrom(...admitted) },
      );
      await fc.assert(
        fc.asyncProperty(roles, requestsFor(op, knownIds), async (role, generated) => {
          const before = await snapshotSchema(db, schema);
          const caller = authed(service, role);
          let call = caller[op.method](fillPath(op.path, (p) => generated.path[p]));
          call = call.query(generated.query);
          if (generated.body !== undefined) call = call.set('Content-Type', 'application/json');
          for (const [h, v] of Object.entries(generated.headers))
            if (v !== undefined) call = call.set(h, v);
          // Serialised here so that bare strings, numbers and null reach the service as JSON too.
          const res =
            generated.body === undefined
              ? await call
              : await call.send(
                  generated.body instanceof RawJson
                    ? generated.body.text
                    : JSON.stringify(generated.body),
                );
          const body = (res.body ?? {}) as Record<string, unknown>;
          tally(op.key, res.status, body.error, body.details);
          if (res.status >= 500) {
            throw new Error(
              `${op.key} as ${role} answered ${res.status} ${String(body.error)} to ${printable(generated)}`,
            );
          }
          if (res.status >= 400) {
            assertErrorFormat(res.status, body);
            const changed = changedTables(before, await snapshotSchema(db, schema), background);
            if (changed.length > 0 && !isRecordedRefusal(op, res.status, body)) {
              throw new Error(
                `${op.key} as ${role} answered ${res.status} ${String(body.error)} yet changed ${changed.join(', ')}, to ${printable(generated)}`,
              );
            }
          } else {
            await settle();
          }
        }),
        { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
      );
    }
  });
});
