import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import type { Logger, Role } from '#common';
import { entryBytes } from '../../apps/audit-service/src/log/domain/chain';
import {
  leafHash,
  verifyConsistency,
  verifyInclusion,
} from '../../apps/audit-service/src/log/domain/merkle';
import { verifyTreeHead } from '../../apps/audit-service/src/log/tree-heads/tree-head';
import { checkSavedProof } from '../../apps/audit-service/src/log/verify/proof-check';
import { AppModule as ConsentModule } from '../../apps/consent-service/src/app.module';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { ConsentServiceDefinition } from '../../apps/consent-service/src/consent-service.definition';
import { bootAudit } from '../support/audit-app';
import { DIST } from '../support/child-process';
import { bootGateway } from '../support/gateway-app';
import { bootServiceForTest, testDataDir } from '../support/service-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';
import { waitFor } from '../support/transport-harness';

jest.setTimeout(180_000);

/** Every stored column of an entry (`entry` is generated from `entry_canonical`). */
const ENTRY_COLUMNS =
  'seq, entry_canonical, prev_hash, hash, source_event_id, at, subject_id, actor_id, actor_org, action, outcome';
/** Everything but the position and the event id, taken from the saved copy `s`. */
const SWAPPED = [
  'entry_canonical',
  'prev_hash',
  'hash',
  'at',
  'subject_id',
  'actor_id',
  'actor_org',
  'action',
  'outcome',
]
  .map((c) => `${c} = s.${c}`)
  .join(', ');
const PERSON = '9434765919';
const OTHER = '9434765870';
const TODAY = new Date().toISOString().slice(0, 10);
const token = (sub: string, roles: Role[], org = 'X26') =>
  tokenFor(testDataDir(), { sub, org, roles });
const admin = token('admin-1', ['admin', 'ig_officer']);
const officer = token('ig-1', ['ig_officer']);
const guardian = token('cg-1', ['caldicott_guardian']);
const worker = token('sw-1', ['social_worker']);
const lead = token('lead-1', ['safeguarding_lead']);
const person = token(PERSON, ['service_user']);
const otherPerson = token(OTHER, ['service_user']);

describe('audit service: the tamper-evident log of every event', () => {
  let db: { url: string; drop: () => Promise<void> };
  let consent: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  let audit: NestFastifyApplication;
  let superuser: Client;
  const gw = () => request(gateway.getHttpServer());
  const au = () => request(audit.getHttpServer());
  const entries = async (query: string) =>
    (
      await au()
        .get(`/v1/audit/entries?${query}`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body.entries as {
      seq: number;
      action: string;
      outcome: string;
      details: Record<string, unknown>;
    }[];
  const verify = async () =>
    (await au().post('/v1/audit/verify').set('Authorization', `Bearer ${officer}`).expect(200))
      .body;
  let overrideDecisionId: string;
  let disclosureSeq: number;

  beforeAll(async () => {
    db = await createTestDatabase('auditlog');
    ({ app: consent } = await bootServiceForTest({
      definition: ConsentServiceDefinition,
      envSchema: ConsentServiceEnv,
      url: db.url,
      env: { TRANSPORT_POLL_INTERVAL_MS: '20' },
      appModule: (c: ConsentServiceEnv, l: Logger) => ConsentModule.forRoot(c, l),
    }));
    gateway = await bootGateway(db.url);
    audit = await bootAudit(db.url);
    superuser = new Client({ connectionString: db.url });
    await superuser.connect();
    const put = (path: string, body: object) =>
      gw().put(path).set('Authorization', `Bearer ${admin}`).send(body).expect(200);
    await put('/v1/organisations/X26', { name: 'Council', kind: 'local-authority', country: 'GB' });
    for (const [id, role] of [
      ['sw-1', 'social_worker'],
      ['lead-1', 'safeguarding_lead'],
    ]) {
      await put(`/v1/users/${id}`, {
        org: 'X26',
        roles: [role],
        teams: [],
        igTrainingCompletedOn: TODAY,
      });
    }
    await gw()
      .post('/v1/agreements')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        title: 'Direct care',
        parties: ['kind:local-authority'],
        roles: ['social_worker'],
        purposes: ['direct-care'],
        dataCategories: ['care-plan', 'assessments'],
        legalBasis: { article6: 'UK-GDPR-6-1-e', article9: 'UK-GDPR-9-2-h', statutes: [] },
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2030-01-01T00:00:00Z',
        status: 'active',
      })
      .expect(201);
    await gw()
      .post('/v1/relationships')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        userId: 'sw-1',
        subjectId: PERSON,
        type: 'allocated-worker',
        validFrom: '2026-01-01T00:00:00Z',
      })
      .expect(201);
    await request(consent.getHttpServer())
      .post(`/v1/subjects/${PERSON}/consents`)
      .set('Authorization', `Bearer ${worker}`)
      .send({
        decision: 'granted',
        purposes: ['direct-care'],
        recipients: ['kind:local-authority'],
        dataCategories: ['care-plan'],
        capture: { method: 'written', givenBy: 'subject', capacity: 'has-capacity' },
        notes: 'Private note that must never reach the audit log',
      })
      .expect(201);
    await waitFor(
      async () =>
        (
          await gw()
            .get(`/v1/subjects/${PERSON}/record?purpose=direct-care&categories=care-plan`)
            .set('Authorization', `Bearer ${worker}`)
        ).status === 200,
      20_000,
      'a disclosure',
    );
    await gw()
      .get(`/v1/subjects/${PERSON}/record?purpose=direct-care&categories=financial`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(403);
    const override = await gw()
      .post('/v1/decisions')
      .set('Authorization', `Bearer ${lead}`)
      .send({
        subjectId: OTHER,
        purposeOfUse: 'safeguarding',
        dataCategories: ['care-plan'],
        breakGlass: {
          reason: 'Neighbour reports the person has not been seen for a week',
          statutoryBasis: 'care-act-2014-s42',
        },
      })
      .expect(200);
    overrideDecisionId = override.body.decisionId;
    await waitFor(
      async () => (await entries(`subjectId=${OTHER}`)).length > 0,
      20_000,
      'the override in the log',
    );
    const disclosed = await entries(`subjectId=${PERSON}&action=record.disclosed`);
    disclosureSeq = disclosed[0].seq;
  });

  afterAll(async () => {
    await superuser?.end();
    await audit?.close();
    await gateway?.close();
    await consent?.close();
    await db?.drop();
  });

  it('logs one entry per event, with codes and identifiers but no free text', async () => {
    const all = await entries('limit=1000');
    const actions = all.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'gateway.organisation.set',
        'gateway.user.set',
        'gateway.agreement.created',
        'gateway.relationship.created',
        'consent.granted',
        'record.disclosed',
        'record.denied',
        'access.decided',
      ]),
    );
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    // One entry per event of every stream, the audit service's own (notices) included; those
    // are ingested a moment after they are published.
    const counts = async () =>
      (
        await superuser.query(
          `SELECT (SELECT count(*) FROM audit.entries)::int AS n,
                  ((SELECT count(*) FROM consent.outbox) + (SELECT count(*) FROM gateway.outbox)
                   + (SELECT count(*) FROM audit.outbox))::int AS events`,
        )
      ).rows[0] as { n: number; events: number };
    await waitFor(
      async () => {
        const { n, events } = await counts();
        return n === events;
      },
      10_000,
      'every event in the log',
    );
    const { n, events } = await counts();
    expect(n).toBe(events);
    const text = JSON.stringify(all);
    expect(text).not.toContain('Private note');
    expect(text).not.toContain('not been seen for a week');
    const denied = all.find((e) => e.action === 'record.denied');
    expect(denied?.details.denied).toEqual([{ category: 'financial', reasons: ['no-agreement'] }]);
  });

  it('pages with a cursor and exports CSV', async () => {
    const page1 = await au()
      .get('/v1/audit/entries?limit=3')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(page1.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    const page2 = await au()
      .get(`/v1/audit/entries?limit=3&cursor=${page1.body.nextCursor}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(page2.body.entries[0].seq).toBe(4);
    const csv = await au()
      .get(`/v1/audit/entries?subjectId=${PERSON}`)
      .set('Authorization', `Bearer ${officer}`)
      .set('Accept', 'text/csv')
      .expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe(
      'seq,at,actorId,actorOrg,actorRole,subjectId,action,outcome,purpose,categories,legalBasis,correlationId,hash,prevHash',
    );
    const bad = await au()
      .get('/v1/audit/entries?subjectId=123&limit=0')
      .set('Authorization', `Bearer ${officer}`)
      .expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['subjectId', 'limit']);
    await au().get('/v1/audit/entries').set('Authorization', `Bearer ${worker}`).expect(403);
  });

  it('gives the person an inclusion proof of their disclosure that verifies offline, and no one else’s', async () => {
    await waitFor(
      async () => {
        const head = await au()
          .get('/v1/audit/tree-heads/latest')
          .set('Authorization', `Bearer ${officer}`);
        return head.status === 200 && head.body.treeSize >= disclosureSeq;
      },
      10_000,
      'a tree head covering the disclosure',
    );
    const keys = await au()
      .get('/v1/audit/keys')
      .set('Authorization', `Bearer ${person}`)
      .expect(200);
    const proof = await au()
      .get(`/v1/audit/entries/${disclosureSeq}/proof`)
      .set('Authorization', `Bearer ${person}`)
      .expect(200);
    const publicKey = keys.body.find(
      (k: { keyId: string }) => k.keyId === proof.body.treeHead.keyId,
    ).publicKey;
    expect(checkSavedProof(proof.body, publicKey)).toMatchObject({ ok: true });
    const forged = {
      ...proof.body,
      entry: { ...proof.body.entry, categories: ['care-plan', 'safeguarding'] },
    };
    expect(checkSavedProof(forged, publicKey).ok).toBe(false);
    // The standalone verifier a person or regulator runs, with only the public key.
    const dir = mkdtempSync(join(tmpdir(), 'audit-proof-'));
    try {
      writeFileSync(join(dir, 'proof.json'), JSON.stringify(proof.body));
      writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
      writeFileSync(join(dir, 'key.pem'), publicKey);
      const cli = (file: string) =>
        spawnSync(
          process.execPath,
          [
            join(DIST, 'apps/audit-service/src/verify-proof.js'),
            join(dir, file),
            '--key',
            join(dir, 'key.pem'),
          ],
          { encoding: 'utf8' },
        );
      const good = cli('proof.json');
      expect(good.stdout).toContain(`VALID: entry ${disclosureSeq} is in the log`);
      expect(good.status).toBe(0);
      const bad = cli('forged.json');
      expect(bad.stdout).toContain('FAIL the entry hashes to the leaf hash');
      expect(bad.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const disclosures = await au()
      .get(`/v1/subjects/${PERSON}/disclosures`)
      .set('Authorization', `Bearer ${person}`)
      .expect(200);
    expect(disclosures.body).toEqual([
      expect.objectContaining({
        seq: disclosureSeq,
        recipientOrg: 'X26',
        purpose: 'direct-care',
        categories: ['care-plan'],
        withoutConsent: true,
      }),
    ]);
    // Paged newest first by cursor: one disclosure in all, so the first page is the last.
    const first = await au()
      .get(`/v1/subjects/${PERSON}/disclosures?limit=1`)
      .set('Authorization', `Bearer ${person}`)
      .expect(200);
    expect(first.body.map((d: { seq: number }) => d.seq)).toEqual([disclosureSeq]);
    expect(first.headers['x-next-cursor']).toBeUndefined();
    for (const [cursor, seqs] of [
      [disclosureSeq, []],
      [disclosureSeq + 1, [disclosureSeq]],
    ] as const) {
      const page = await au()
        .get(`/v1/subjects/${PERSON}/disclosures?cursor=${cursor}&limit=1`)
        .set('Authorization', `Bearer ${person}`)
        .expect(200);
      expect(page.body.map((d: { seq: number }) => d.seq)).toEqual(seqs);
    }
    const bad = await au()
      .get(`/v1/subjects/${PERSON}/disclosures?cursor=x&limit=0`)
      .set('Authorization', `Bearer ${person}`)
      .expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'cursor',
      'limit',
    ]);
    await au()
      .get(`/v1/subjects/${PERSON}/disclosures`)
      .set('Authorization', `Bearer ${otherPerson}`)
      .expect(403);
    await au()
      .get(`/v1/audit/entries/${disclosureSeq}/proof`)
      .set('Authorization', `Bearer ${otherPerson}`)
      .expect(404);
  });

  /** The latest signed tree head and the published keys, as an IG officer reads them. */
  const latestHeadAndKeys = async () => {
    const head = (
      await au()
        .get('/v1/audit/tree-heads/latest')
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body;
    const keys = (
      await au().get('/v1/audit/keys').set('Authorization', `Bearer ${officer}`).expect(200)
    ).body;
    return { head, keys };
  };

  it('proves consistency between two signed tree heads', async () => {
    const { head: first, keys } = await latestHeadAndKeys();
    expect(verifyTreeHead(first, keys[0].publicKey)).toBe(true);
    await gw()
      .get(`/v1/subjects/${PERSON}/record?purpose=direct-care&categories=care-plan`)
      .set('Authorization', `Bearer ${worker}`)
      .expect(200);
    let second = first;
    await waitFor(
      async () => {
        second = (
          await au().get('/v1/audit/tree-heads/latest').set('Authorization', `Bearer ${officer}`)
        ).body;
        return second.treeSize > first.treeSize;
      },
      10_000,
      'a newer tree head',
    );
    const res = await au()
      .get(`/v1/audit/consistency?from=${first.treeSize}&to=${second.treeSize}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    const proof = res.body.proof.map((h: string) => Buffer.from(h, 'hex'));
    expect(
      verifyConsistency(
        first.treeSize,
        second.treeSize,
        proof,
        Buffer.from(first.rootHash, 'hex'),
        Buffer.from(second.rootHash, 'hex'),
      ),
    ).toBe(true);
  });

  it('proves every entry against the latest head, and any entry at a requested tree size', async () => {
    const { head, keys } = await latestHeadAndKeys();
    const publicKey = keys.find((k: { keyId: string }) => k.keyId === head.keyId).publicKey;
    const proofOf = (seq: number, treeSize?: number) =>
      au()
        .get(
          `/v1/audit/entries/${seq}/proof${treeSize === undefined ? '' : `?treeSize=${treeSize}`}`,
        )
        .set('Authorization', `Bearer ${officer}`);
    // The default answers come partly from the replica's node cache once it has seen a head.
    for (let seq = 1; seq <= head.treeSize; seq++) {
      const proof = (await proofOf(seq).expect(200)).body;
      expect(checkSavedProof(proof, publicKey)).toMatchObject({ ok: true });
    }
    const atHead = (await proofOf(1, head.treeSize).expect(200)).body;
    expect(atHead.treeHead).toEqual(head);
    expect(checkSavedProof(atHead, publicKey)).toMatchObject({ ok: true });
    // An older size no head was signed at: a proof to that tree's root, which the consistency
    // proof from it to the signed head vouches for.
    const older = head.treeSize - 1;
    const atOlder = (await proofOf(older, older).expect(200)).body;
    expect(atOlder).toMatchObject({ seq: older, treeSize: older });
    expect(
      verifyInclusion(
        leafHash(entryBytes(atOlder.entry)),
        older - 1,
        older,
        atOlder.auditPath.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(atOlder.rootHash, 'hex'),
      ),
    ).toBe(true);
    const consistency = (
      await au()
        .get(`/v1/audit/consistency?from=${older}&to=${head.treeSize}`)
        .set('Authorization', `Bearer ${officer}`)
        .expect(200)
    ).body;
    expect(consistency.fromRoot).toBe(atOlder.rootHash);
    expect(consistency.toRoot).toBe(head.rootHash);
    for (const [seq, treeSize] of [
      [older, older - 1],
      [1, 1_000_000],
    ]) {
      const refused = await proofOf(seq, treeSize).expect(422);
      expect(refused.body.error).toBe('TREE_SIZE_OUT_OF_RANGE');
    }
  });

  it('pages the override list by cursor, and names a bad status, cursor or limit', async () => {
    const first = await au()
      .get('/v1/reports/break-glass?limit=1')
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(first.body).toEqual([expect.objectContaining({ decisionId: overrideDecisionId })]);
    // One override in all: the page is the last, so no cursor to a next one.
    expect(first.headers['x-next-cursor']).toBeUndefined();
    const after = await au()
      .get(`/v1/reports/break-glass?cursor=${first.body[0].seq}`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(after.body).toEqual([]);
    const before = await au()
      .get(`/v1/reports/break-glass?cursor=${first.body[0].seq - 1}&limit=1`)
      .set('Authorization', `Bearer ${officer}`)
      .expect(200);
    expect(before.body.map((o: { seq: number }) => o.seq)).toEqual([first.body[0].seq]);
    const bad = await au()
      .get('/v1/reports/break-glass?status=maybe&cursor=-1&limit=1001')
      .set('Authorization', `Bearer ${officer}`)
      .expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'cursor',
      'limit',
      'status',
    ]);
  });

  it('lists overrides awaiting review; a review is recorded once and logged', async () => {
    const unreviewed = await au()
      .get('/v1/reports/break-glass?status=unreviewed')
      .set('Authorization', `Bearer ${guardian}`)
      .expect(200);
    expect(unreviewed.body).toEqual([
      expect.objectContaining({
        decisionId: overrideDecisionId,
        statute: 'care-act-2014-s42',
        status: 'unreviewed',
      }),
    ]);
    await au()
      .post(`/v1/reports/break-glass/${overrideDecisionId}/review`)
      .set('Authorization', `Bearer ${guardian}`)
      .send({ outcome: 'appropriate', notes: 'Proportionate: welfare check was urgent' })
      .expect(200);
    const again = await au()
      .post(`/v1/reports/break-glass/${overrideDecisionId}/review`)
      .set('Authorization', `Bearer ${guardian}`)
      .send({ outcome: 'inappropriate', notes: 'second try' })
      .expect(409);
    expect(again.body.error).toBe('ALREADY_REVIEWED');
    expect(
      (
        await au()
          .get('/v1/reports/break-glass?status=unreviewed')
          .set('Authorization', `Bearer ${officer}`)
          .expect(200)
      ).body,
    ).toEqual([]);
    await waitFor(
      async () => (await entries('action=audit.break-glass.reviewed')).length === 1,
      10_000,
      'the review in the log',
    );
    const [review] = await entries('action=audit.break-glass.reviewed');
    expect(review).toMatchObject({
      outcome: 'appropriate',
      details: expect.objectContaining({ decisionId: overrideDecisionId }),
    });
    expect(JSON.stringify(review)).not.toContain('Proportionate');
  });

  it('refuses UPDATE and DELETE as the runtime role, and even as the owner (trigger)', async () => {
    await superuser.query('BEGIN');
    await superuser.query('SET LOCAL ROLE audit_runtime');
    await expect(
      superuser.query(`UPDATE audit.entries SET at = now() WHERE seq = 1`),
    ).rejects.toThrow(/permission denied/);
    await superuser.query('ROLLBACK');
    await superuser.query('BEGIN');
    await superuser.query('SET LOCAL ROLE audit_runtime');
    await expect(superuser.query(`DELETE FROM audit.entries WHERE seq = 1`)).rejects.toThrow(
      /permission denied/,
    );
    await superuser.query('ROLLBACK');
    await expect(
      superuser.query(`UPDATE audit.entries SET at = now() WHERE seq = 1`),
    ).rejects.toThrow(/append-only/);
    await expect(superuser.query(`DELETE FROM audit.merkle_nodes WHERE level = 0`)).rejects.toThrow(
      /append-only/,
    );
    await expect(superuser.query(`TRUNCATE audit.entries`)).rejects.toThrow(/append-only/);
  });

  describe('tampering by a database superuser is named by audit:verify', () => {
    /** Runs a change with triggers off (as only a superuser can), verifies, then undoes it. */
    const tamper = async (change: string, undo: string) => {
      await superuser.query(`SET session_replication_role = replica`);
      try {
        await superuser.query(change);
        return await verify();
      } finally {
        await superuser.query(undo);
        await superuser.query(`SET session_replication_role = DEFAULT`);
      }
    };
    /** verify() named `seq` as the first bad entry (and, when given, for `problem`). */
    const expectFirstBad = (result: unknown, seq: number, problem?: string) =>
      expect(result).toMatchObject({
        ok: false,
        firstBadSeq: seq,
        ...(problem ? { problem } : {}),
      });
    let size: number;

    beforeAll(async () => {
      // Stop new entries arriving while the log is being tampered with and restored: no more
      // requests, and every event already published (the audit service's own notice events
      // included) in the log, with nothing new for longer than the notice sender's interval.
      await gateway.close();
      await consent.close();
      const settled = async () =>
        (
          await superuser.query(
            `SELECT (SELECT count(*) FROM audit.entries)::int AS n,
                    ((SELECT count(*) FROM consent.outbox) + (SELECT count(*) FROM gateway.outbox)
                     + (SELECT count(*) FROM audit.outbox))::int AS events`,
          )
        ).rows[0] as { n: number; events: number };
      let last = -1;
      await waitFor(
        async () => {
          const { n, events } = await settled();
          const quiet = n === events && n === last;
          last = n;
          if (!quiet) await new Promise((r) => setTimeout(r, 1500));
          return quiet;
        },
        30_000,
        'a quiet log',
      );
      const before = await verify();
      expect(before).toMatchObject({ ok: true });
      size = before.checked;
      await superuser.query(`CREATE TEMP TABLE saved AS SELECT * FROM audit.entries`);
    });

    it('one changed byte', async () => {
      const result = await tamper(
        // One byte of the hashed bytes (the first of the correlation id), outside every search
        // column; `entry` (generated from the bytes) follows.
        `UPDATE audit.entries SET entry_canonical = overlay(entry_canonical
            PLACING CASE WHEN substr(entry_canonical, p, 1) = 'a' THEN 'b' ELSE 'a' END FROM p FOR 1)
           FROM (SELECT position('"correlationId":"' IN entry_canonical) + 17 AS p
                   FROM audit.entries WHERE seq = 3) AS at
          WHERE seq = 3`,
        `UPDATE audit.entries e SET entry_canonical = s.entry_canonical FROM saved s WHERE e.seq = s.seq AND e.seq = 3`,
      );
      expectFirstBad(result, 3, 'hash does not match the entry');
    });

    it('one deleted entry', async () => {
      const result = await tamper(
        `DELETE FROM audit.entries WHERE seq = 4`,
        `INSERT INTO audit.entries (${ENTRY_COLUMNS}) SELECT ${ENTRY_COLUMNS} FROM saved WHERE seq = 4`,
      );
      expectFirstBad(result, 4);
    });

    it('two entries swapped', async () => {
      const result = await tamper(
        `UPDATE audit.entries e SET ${SWAPPED}, source_event_id = gen_random_uuid()
           FROM saved s WHERE (e.seq, s.seq) IN ((5, 6), (6, 5))`,
        `UPDATE audit.entries e SET ${SWAPPED}, source_event_id = s.source_event_id
           FROM saved s WHERE e.seq = s.seq AND e.seq IN (5, 6)`,
      );
      expectFirstBad(result, 5);
    });

    it('a forged entry appended with a correct chain hash', async () => {
      const [last] = (
        await superuser.query(`SELECT entry, hash FROM audit.entries ORDER BY seq DESC LIMIT 1`)
      ).rows;
      const { canonicalJson } =
        await import('../../apps/audit-service/src/log/domain/canonical-json');
      const { chainHash } = await import('../../apps/audit-service/src/log/domain/chain');
      const forged = {
        ...last.entry,
        seq: size + 1,
        action: 'record.disclosed',
        sourceEventId: '00000000-0000-4000-8000-000000000000',
      };
      const hash = chainHash(last.hash, Buffer.from(canonicalJson(forged)));
      const result = await tamper(
        `INSERT INTO audit.entries (seq, entry_canonical, prev_hash, hash, source_event_id, at,
                                    subject_id, actor_id, actor_org, action, outcome)
         VALUES (${size + 1}, '${canonicalJson(forged).replace(/'/g, "''")}', '\\x${last.hash.toString('hex')}',
                 '\\x${hash.toString('hex')}', '${forged.sourceEventId}', '${forged.at}',
                 ${forged.subjectId === null ? 'NULL' : `'${forged.subjectId}'`},
                 ${forged.actor === null ? 'NULL' : `'${forged.actor.userId}'`},
                 ${forged.actor === null ? 'NULL' : `'${forged.actor.org}'`}, '${forged.action}', '${forged.outcome}')`,
        `DELETE FROM audit.entries WHERE seq = ${size + 1}`,
      );
      expectFirstBad(result, size + 1);
    });

    it('a changed interior Merkle node: the proof route refuses to hand out a proof that misses the signed root', async () => {
      const proofOfFirst = () =>
        au().get('/v1/audit/entries/1/proof').set('Authorization', `Bearer ${officer}`);
      const good = await proofOfFirst().expect(200);
      expect(good.body.treeSize).toBeGreaterThanOrEqual(2);
      // Entry 1's sibling leaf is the first node on its audit path.
      const sibling = `level = 0 AND index = 1`;
      const [saved] = (
        await superuser.query(`SELECT hash FROM audit.merkle_nodes WHERE ${sibling}`)
      ).rows;
      await superuser.query(`SET session_replication_role = replica`);
      try {
        await superuser.query(
          `UPDATE audit.merkle_nodes SET hash = '\\x${'00'.repeat(32)}' WHERE ${sibling}`,
        );
        const refused = await proofOfFirst();
        expect(refused.status).toBe(500);
        expect(refused.body).toMatchObject({ error: 'INTERNAL_ERROR' });
        expect(refused.body.auditPath).toBeUndefined();
      } finally {
        await superuser.query(`UPDATE audit.merkle_nodes SET hash = $1 WHERE ${sibling}`, [
          saved.hash,
        ]);
        await superuser.query(`SET session_replication_role = DEFAULT`);
      }
      expect((await proofOfFirst().expect(200)).body.auditPath).toEqual(good.body.auditPath);
    });

    it('a search column changed, so the entry would show under another person', async () => {
      const result = await tamper(
        `UPDATE audit.entries SET subject_id = '${OTHER}' WHERE seq = 7`,
        `UPDATE audit.entries e SET subject_id = s.subject_id FROM saved s WHERE e.seq = s.seq AND e.seq = 7`,
      );
      expectFirstBad(result, 7, 'the stored columns differ from the entry');
    });

    it('entry made an ordinary column and then changed: every entry is compared with its bytes', async () => {
      const result = await tamper(
        `ALTER TABLE audit.entries ALTER COLUMN entry DROP EXPRESSION;
         UPDATE audit.entries SET entry = jsonb_set(entry, '{purpose}', '"research"') WHERE seq = 8`,
        `ALTER TABLE audit.entries DROP COLUMN entry;
         ALTER TABLE audit.entries
           ADD COLUMN entry jsonb NOT NULL GENERATED ALWAYS AS (entry_canonical::jsonb) STORED`,
      );
      expectFirstBad(result, 8, 'the stored columns differ from the entry');
    });

    it('is intact again once every change is undone', async () => {
      expect(await verify()).toMatchObject({ ok: true, checked: size });
    });

    it('npm run audit:verify says the same from the command line', async () => {
      const cli = () =>
        spawnSync(process.execPath, [join(DIST, 'apps/audit-service/src/verify-log.js')], {
          encoding: 'utf8',
          env: { ...process.env, DATABASE_URL: db.url },
        });
      const intact = cli();
      expect(intact.stdout).toContain(`audit log intact: ${size} entries`);
      expect(intact.status).toBe(0);
      await superuser.query(`SET session_replication_role = replica`);
      try {
        await superuser.query(
          `UPDATE audit.entries SET entry_canonical = replace(entry_canonical, '"correlationId":"', '"correlationId":"x') WHERE seq = 2`,
        );
        const broken = cli();
        expect(broken.stdout).toContain('audit log NOT intact: first bad entry 2');
        expect(broken.status).toBe(1);
      } finally {
        await superuser.query(
          `UPDATE audit.entries e SET entry_canonical = s.entry_canonical FROM saved s WHERE e.seq = s.seq AND e.seq = 2`,
        );
        await superuser.query(`SET session_replication_role = DEFAULT`);
      }
    });
  });
});
