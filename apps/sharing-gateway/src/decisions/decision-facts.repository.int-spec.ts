import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  OutboxWriter,
  runMigrations,
  TOPICS,
  type AuthenticatedUser,
} from '#common';
import { createTestDatabase } from '../../../../test/support/test-database';
import type { AgreementDto } from '../reference/agreements/agreement.dto';
import { AgreementsController } from '../reference/agreements/agreements.controller';
import { ReferenceStore } from '../reference/reference-store';
import { SharingGatewayDefinition } from '../sharing-gateway.definition';
import { DecisionFactsRepository } from './decision-facts.repository';

jest.setTimeout(120_000);

const PERSON = '9434765919';
const editor: AuthenticatedUser = { userId: 'admin-1', org: 'X26', roles: ['admin'], teams: [] };

const agreement = (title: string, parties: string[]): AgreementDto =>
  ({
    title,
    parties,
    roles: ['social_worker'],
    purposes: ['direct-care'],
    dataCategories: ['care-plan'],
    legalBasis: { article6: 'UK-GDPR-6-1-e', statutes: [] },
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2030-01-01T00:00:00.000Z',
    status: 'active',
  }) as unknown as AgreementDto;

/** A new database with the gateway's migrations applied, and a data source on it. */
async function migratedGatewayDatabase(
  name: string,
): Promise<{ db: { url: string; drop: () => Promise<void> }; ds: DataSource }> {
  const db = await createTestDatabase(name);
  const ds = createServiceDataSource({
    url: db.url,
    schema: 'gateway',
    migrations: SharingGatewayDefinition.migrations,
    poolSize: 5,
  });
  await runMigrations(ds, 'gateway');
  await ds.initialize();
  return { db, ds };
}

describe('live facts with cached agreements', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let agreements: AgreementsController;
  let repository: DecisionFactsRepository;

  /** Live facts for sw-1, checked against what a replay rebuilds from the same snapshot. */
  async function live(): Promise<{ agreementId: string; version: number; status: string }[]> {
    const loaded = await repository.live('sw-1', null, PERSON, 60_000);
    const replayed = await repository.asOf({
      snapshot: loaded.snapshot,
      requesterUserId: 'sw-1',
      recipientOrg: null,
      subjectId: PERSON,
      consentVersion: 0,
      consentStale: loaded.facts.consent.stale,
    });
    expect(loaded.facts.agreements).toEqual(replayed.agreements);
    return loaded.facts.agreements.map(({ agreementId, version, status }) => ({
      agreementId,
      version,
      status,
    }));
  }

  beforeAll(async () => {
    ({ db, ds } = await migratedGatewayDatabase('gatewayfacts'));
    await ds.transaction(async (tx) => {
      await tx.query(`INSERT INTO gateway.organisations (ods_code, name, kind, country, version, updated_at)
                      VALUES ('X26', 'Northshire Council', 'local-authority', 'GB', 1, now())`);
      await tx.query(`INSERT INTO gateway.users (user_id, org, roles, teams, version, updated_at)
                      VALUES ('sw-1', 'X26', '{social_worker}', '{}', 1, now())`);
      await tx.query(`INSERT INTO gateway.reference_history (kind, key, version, user_id, body) VALUES
        ('organisation', 'X26', 1, NULL,
         '{"odsCode": "X26", "name": "Northshire Council", "kind": "local-authority", "country": "GB"}'),
        ('user', 'sw-1', 1, 'sw-1',
         '{"userId": "sw-1", "org": "X26", "roles": ["social_worker"], "teams": [],
           "igTrainingCompletedOn": null, "accountEndsOn": null}')`);
    });
    agreements = new AgreementsController(
      new ReferenceStore(ds, new OutboxWriter('gateway', TOPICS.gateway)),
    );
    repository = new DecisionFactsRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('reads agreements again whenever one is added or changed, and only those naming the organisation', async () => {
    expect(await live()).toEqual([]);
    const { agreementId: byKind } = await agreements.create(
      agreement('By kind', ['kind:local-authority', 'RX1']),
      editor,
      'c-1',
    );
    await agreements.create(agreement('Elsewhere', ['RX1', 'kind:nhs-trust']), editor, 'c-2');
    const { agreementId: byCode } = await agreements.create(
      agreement('By code', ['X26']),
      editor,
      'c-3',
    );
    const ids = [byKind, byCode].sort();
    expect(await live()).toEqual(
      ids.map((agreementId) => ({ agreementId, version: 1, status: 'active' })),
    );
    const cached = repository.agreementsVersion;
    expect(await live()).toHaveLength(2);
    expect(repository.agreementsVersion).toBe(cached);

    await agreements.change(byCode, { status: 'suspended' }, editor, 'c-4');
    expect((await live()).find((a) => a.agreementId === byCode)).toEqual({
      agreementId: byCode,
      version: 2,
      status: 'suspended',
    });
    expect(repository.agreementsVersion).not.toBe(cached);
    await agreements.change(byCode, { status: 'active' }, editor, 'c-5');
    expect((await live()).map((a) => a.status)).toEqual(['active', 'active']);
  });

  it('sees a change committed after a later-started one (updated_at is the start of its transaction)', async () => {
    const [first, second] = await live();
    expect([first.status, second.status]).toEqual(['active', 'active']);
    const early = new Client({ connectionString: db.url });
    const late = new Client({ connectionString: db.url });
    await early.connect();
    await late.connect();
    try {
      // The early transaction starts (fixing its now()) before the late one changes anything.
      await early.query('BEGIN');
      await early.query('SELECT now()');
      await new Promise((r) => setTimeout(r, 20));
      const change = (client: Client, agreementId: string, status: string) =>
        client.query(
          `WITH a AS (UPDATE gateway.agreements SET status = $2, version = version + 1,
                        updated_at = now() WHERE agreement_id = $1 RETURNING *)
           INSERT INTO gateway.reference_history (kind, key, version, body)
           SELECT 'agreement', a.agreement_id::text, a.version,
                  (SELECT body FROM gateway.reference_history
                    WHERE kind = 'agreement' AND key = a.agreement_id::text
                    ORDER BY version DESC LIMIT 1) || jsonb_build_object('status', $2::text)
             FROM a`,
          [agreementId, status],
        );
      await late.query('BEGIN');
      await change(late, second.agreementId, 'draft');
      await late.query('COMMIT');
      // Cached now, with the latest updated_at already in it.
      expect((await live()).map((a) => a.status)).toEqual(['active', 'draft']);

      await change(early, first.agreementId, 'suspended');
      await early.query('COMMIT');
      expect((await live()).map((a) => a.status)).toEqual(['suspended', 'draft']);
    } finally {
      await early.end();
      await late.end();
    }
  });
});

describe('live facts read together for concurrent decisions', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repository: DecisionFactsRepository;
  const OTHER = '9434765870';

  beforeAll(async () => {
    ({ db, ds } = await migratedGatewayDatabase('gatewaybatch'));
    await ds.query(`INSERT INTO gateway.organisations (ods_code, name, kind, country, version, updated_at)
                    VALUES ('X26', 'Northshire Council', 'local-authority', 'GB', 1, now()),
                           ('RX1', 'Northshire Trust', 'nhs-trust', 'GB', 1, now())`);
    await ds.query(`INSERT INTO gateway.users (user_id, org, roles, teams, version, updated_at)
                    VALUES ('sw-1', 'X26', '{social_worker}', '{}', 1, now()),
                           ('sw-2', 'X26', '{social_worker}', '{team-east}', 1, now())`);
    await ds.query(
      `INSERT INTO gateway.relationships
                      (relationship_id, user_id, team_id, subject_id, type, valid_from, version, updated_at)
                    VALUES ('00000000-0000-4000-8000-000000000001', 'sw-1', NULL, $1, 'allocated-worker',
                            '2026-01-01', 1, now()),
                           ('00000000-0000-4000-8000-000000000002', NULL, 'team-east', $2, 'team-caseload',
                            '2026-01-01', 1, now())`,
      [PERSON, OTHER],
    );
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('answers every ask in a batch with its own requester, organisation and person', async () => {
    repository = new DecisionFactsRepository(ds);
    const asks: [string, string | null, string][] = [
      ['sw-1', null, PERSON],
      ['sw-1', null, PERSON],
      ['sw-2', null, PERSON],
      ['sw-1', 'RX1', OTHER],
      ['sw-2', null, OTHER],
      ['nobody', 'RX1', PERSON],
    ];
    // The first goes at once; the rest wait for it and go together in one statement.
    const together = await Promise.all(asks.map((a) => repository.live(...a, 60_000)));
    expect(new Set(together.slice(1).map((l) => l.snapshot)).size).toBe(1);
    expect(together.map((l) => l.facts.user?.userId ?? null)).toEqual([
      'sw-1',
      'sw-1',
      'sw-2',
      'sw-1',
      'sw-2',
      null,
    ]);
    expect(together.map((l) => l.facts.organisation?.odsCode ?? null)).toEqual([
      'X26',
      'X26',
      'X26',
      'RX1',
      'X26',
      'RX1',
    ]);
    expect(together.map((l) => l.facts.relationships.map((r) => r.relationshipId))).toEqual([
      ['00000000-0000-4000-8000-000000000001'],
      ['00000000-0000-4000-8000-000000000001'],
      [],
      [],
      ['00000000-0000-4000-8000-000000000002'],
      [],
    ]);
    // Read one at a time, each ask gets the same facts.
    for (const [i, a] of asks.entries()) {
      const alone = await repository.live(...a, 60_000);
      expect(alone.facts).toEqual(together[i].facts);
    }
  });

  it('fails every ask of a batch whose statement fails, and the next batch reads again', async () => {
    repository = new DecisionFactsRepository(ds);
    await ds.query(`ALTER TABLE gateway.consent_replica RENAME TO consent_replica_away`);
    try {
      const failed = await Promise.allSettled(
        [PERSON, OTHER, PERSON].map((p) => repository.live('sw-1', null, p, 60_000)),
      );
      expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected', 'rejected']);
    } finally {
      await ds.query(`ALTER TABLE gateway.consent_replica_away RENAME TO consent_replica`);
    }
    const again = await repository.live('sw-2', null, OTHER, 60_000);
    expect(again.facts.relationships).toHaveLength(1);
  });
});
