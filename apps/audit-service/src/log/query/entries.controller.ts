import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  canActOnSubject,
  CurrentUser,
  DomainError,
  isValidNhsNumber,
  Roles,
  type AuthenticatedUser,
  type FieldProblem,
} from '#common';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  planNodes,
  rootHash,
  verifyInclusion,
  type NodeStore,
} from '../domain/merkle';
import { loadNodes, storeOf } from '../append/log-appender';
import { toTreeHead, TreeHeadService, type HeadRow } from '../tree-heads/tree-head.service';
import type { TreeHead } from '../tree-heads/tree-head';
import {
  instantParameter,
  invalidInput,
  unknownParameters,
  wholeNumberParameter,
} from '../../http/query-params';
import { toCsv, toEntryView, type EntryRow, type EntryView } from './entry-view';
import { MerkleNodeCache } from './merkle-node-cache';

const AUDITORS = ['ig_officer', 'caldicott_guardian'] as const;
const SAFE_TEXT = /^[A-Za-z0-9._:@,-]{1,128}$/;

/** The log: search, tree heads, keys, inclusion and consistency proofs. */
@ApiTags('audit log')
@Controller('v1/audit')
export class EntriesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly treeHeads: TreeHeadService,
    private readonly nodeCache: MerkleNodeCache,
  ) {}

  @Get('entries')
  @Roles(...AUDITORS)
  @ApiQuery({ name: 'subjectId', required: false })
  @ApiQuery({ name: 'actorId', required: false })
  @ApiQuery({ name: 'org', required: false })
  @ApiQuery({ name: 'action', required: false })
  @ApiQuery({ name: 'outcome', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({ description: '`{entries, nextCursor}`; CSV with Accept: text/csv' })
  async search(
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ entries: EntryView[]; nextCursor: string | null } | string> {
    const problems = unknownParameters(query, [
      'subjectId',
      'actorId',
      'org',
      'action',
      'outcome',
      'from',
      'to',
      'cursor',
      'limit',
    ]);
    const subjectId = query.subjectId;
    if (subjectId !== undefined && (typeof subjectId !== 'string' || !isValidNhsNumber(subjectId)))
      problems.push({ field: 'subjectId', problem: 'subjectId must be a valid NHS number' });
    for (const field of ['actorId', 'org', 'action', 'outcome']) {
      const v = query[field];
      if (v !== undefined && (typeof v !== 'string' || !SAFE_TEXT.test(v)))
        problems.push({ field, problem: `${field} must be 1-128 letters, digits or ._:@,-` });
    }
    const from = instantParameter('from', query.from, problems)?.toISOString();
    const to = instantParameter('to', query.to, problems)?.toISOString();
    const cursor = wholeNumberParameter('cursor', query.cursor, problems);
    const limit = wholeNumberParameter('limit', query.limit, problems) ?? 100;
    if (limit < 1 || limit > 1000)
      problems.push({ field: 'limit', problem: 'limit must be 1-1000' });
    if (problems.length > 0) throw invalidInput(problems);
    const rows: EntryRow[] = await this.dataSource.query(
      `SELECT entry, hash, prev_hash FROM audit.entries
        WHERE ($1::text IS NULL OR subject_id = $1) AND ($2::text IS NULL OR actor_id = $2)
          AND ($3::text IS NULL OR actor_org = $3) AND ($4::text IS NULL OR action = $4)
          AND ($5::text IS NULL OR outcome = $5) AND ($6::timestamptz IS NULL OR at >= $6)
          AND ($7::timestamptz IS NULL OR at < $7) AND seq > $8
        ORDER BY seq LIMIT $9`,
      [
        subjectId ?? null,
        query.actorId ?? null,
        query.org ?? null,
        query.action ?? null,
        query.outcome ?? null,
        from ?? null,
        to ?? null,
        cursor ?? 0,
        limit + 1,
      ],
    );
    const entries = rows.slice(0, limit).map(toEntryView);
    const nextCursor = rows.length > limit ? String(entries[entries.length - 1].seq) : null;
    if (accept?.includes('text/csv')) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      if (nextCursor) void reply.header('x-next-cursor', nextCursor);
      return toCsv(
        entries.map((e) => ({
          ...e,
          actorId: e.actor?.userId,
          actorOrg: e.actor?.org,
          actorRole: e.actor?.role,
        })),
        [
          'seq',
          'at',
          'actorId',
          'actorOrg',
          'actorRole',
          'subjectId',
          'action',
          'outcome',
          'purpose',
          'categories',
          'legalBasis',
          'correlationId',
          'hash',
          'prevHash',
        ],
      );
    }
    return { entries, nextCursor };
  }

  @Get('tree-heads/latest')
  @Roles('ig_officer', 'caldicott_guardian', 'system', 'service_user')
  @ApiOkResponse({ description: '`{treeSize, rootHash, timestamp, signature, keyId}`' })
  async latest(): Promise<TreeHead> {
    const head = (await this.treeHeads.latest()) ?? (await this.treeHeads.issueIfDue(true));
    if (!head) {
      throw new DomainError(
        'NO_TREE_HEAD',
        'No tree head has been signed yet; try again shortly.',
        'unavailable',
      );
    }
    return head;
  }

  @Get('keys')
  @Roles('ig_officer', 'caldicott_guardian', 'system', 'service_user')
  @ApiOkResponse({ description: 'Every key that has signed tree heads, old ones included.' })
  async keys(): Promise<
    { keyId: string; algorithm: string; publicKey: string; createdAt: string }[]
  > {
    const rows: { key_id: string; algorithm: string; public_key_pem: string; created_at: Date }[] =
      await this.dataSource.query(
        `SELECT key_id, algorithm, public_key_pem, created_at FROM audit.signing_keys ORDER BY created_at`,
      );
    return rows.map((r) => ({
      keyId: r.key_id,
      algorithm: r.algorithm,
      publicKey: r.public_key_pem,
      createdAt: r.created_at.toISOString(),
    }));
  }

  @Get('entries/:seq/proof')
  @Roles('ig_officer', 'caldicott_guardian', 'system', 'service_user')
  @ApiQuery({
    name: 'treeSize',
    required: false,
    description: 'Default: the latest signed tree head',
  })
  @ApiOkResponse({
    description: '`{seq, leafHash, treeSize, auditPath[], rootHash, entry, treeHead}`',
  })
  async proof(
    @Param('seq') seqText: string,
    @Query('treeSize') treeSizeText: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<Record<string, unknown>> {
    const problems: FieldProblem[] = [];
    const seq = wholeNumberParameter('seq', seqText, problems);
    const requestedSize = wholeNumberParameter('treeSize', treeSizeText, problems);
    if (seq === 0) problems.push({ field: 'seq', problem: 'seq starts at 1' });
    if (problems.length > 0 || seq === undefined) throw invalidInput(problems);
    const known = requestedSize === undefined ? this.treeHeads.latestKnown() : null;
    if (known && known.treeSize >= seq) return this.proofAgainst(known, seq, user);
    // A requested size fixes the nodes before anything is read, so they come with the entry
    // (when it is out of range nothing is planned: the answer is an error either way).
    const planned =
      requestedSize !== undefined && seq <= requestedSize
        ? this.nodeCache.take(planNodes(proofWork(seq, requestedSize)))
        : { held: new Map<string, Buffer>(), missing: [] };
    // One read for the entry, the head the proof is for, (for a requested size) the log's
    // size and the nodes not in memory: a signed head's size never exceeds the log's, so the
    // default needs no max(seq).
    const rows: (EntryRow & {
      // NOT NULL since the entry is generated from it.
      canonical: string;
      size: string | null;
      nodes: string | null;
    } & Partial<HeadRow>)[] = await this.dataSource.query(
      `SELECT e.entry, e.hash, e.prev_hash, e.entry_canonical AS canonical,
                h.tree_size::text AS tree_size, h.root_hash, h.issued_at, h.signature, h.key_id,
                CASE WHEN $2::bigint IS NOT NULL
                     THEN (SELECT coalesce(max(seq), 0) FROM audit.entries)::text END AS size,
                ${nodesColumn('$3', '$4')}
           FROM audit.entries e
           LEFT JOIN LATERAL (
             SELECT t.tree_size, t.root_hash, t.issued_at, t.signature, t.key_id
               FROM audit.tree_heads t
              WHERE $2::bigint IS NULL OR t.tree_size = $2::bigint
              ORDER BY t.tree_size DESC LIMIT 1
           ) h ON true
          WHERE e.seq = $1`,
      [
        seq,
        requestedSize ?? null,
        planned.missing.map((w) => w.level),
        planned.missing.map((w) => w.index),
      ],
    );
    const staff = user.roles.some((r) => r !== 'service_user');
    // A person may see proofs of their own entries only; others get the same 404 as a gap.
    if (rows.length === 0 || (!staff && !canActOnSubject(user, rows[0].entry.subjectId ?? ''))) {
      throw new DomainError('ENTRY_NOT_FOUND', `No entry ${seq} is in the log.`, 'not-found');
    }
    const row = rows[0];
    const head = row.tree_size ? toTreeHead(row as HeadRow) : null;
    const treeSize = requestedSize ?? head?.treeSize ?? 0;
    const size = row.size ?? String(treeSize);
    if (treeSize < seq || treeSize > Number(size)) {
      throw new DomainError(
        'TREE_SIZE_OUT_OF_RANGE',
        requestedSize === undefined
          ? `Entry ${seq} is not yet covered by a signed tree head; try again in a few seconds.`
          : `treeSize must be between ${seq} and ${size}.`,
        requestedSize === undefined ? 'conflict' : 'rule-violation',
        [
          {
            field: 'treeSize',
            problem:
              requestedSize === undefined
                ? `the latest signed tree head covers ${treeSize} entries`
                : `treeSize must be between ${seq} and ${size}`,
          },
        ],
      );
    }
    const work = proofWork(seq, treeSize);
    let nodes: Map<string, Buffer>;
    if (requestedSize !== undefined) {
      nodes = addNodes(planned.held, row.nodes);
    } else {
      // The head was only learnt from this read (one newer than this replica knew): a second.
      const { held, missing } = this.nodeCache.take(planNodes(work));
      nodes = new Map([...held, ...(await loadNodes(this.dataSource, missing))]);
    }
    const { path, root } = work(storeOf(nodes));
    // The stored bytes are what was hashed.
    const leaf = leafHash(row.canonical);
    const signed = head && head.treeSize === treeSize ? head : null;
    if (signed) assertProves(signed, seq, leaf, path);
    return proofAnswer(seq, treeSize, leaf, path, root, row.entry, signed);
  }

  /**
   * The proof against a head already known, in one read: its size fixes which nodes the proof
   * needs before anything is read, so the ones not in memory come with the entry.
   */
  private async proofAgainst(
    head: TreeHead,
    seq: number,
    user: AuthenticatedUser,
  ): Promise<Record<string, unknown>> {
    const treeSize = head.treeSize;
    const work = proofWork(seq, treeSize);
    const { held, missing } = this.nodeCache.take(planNodes(work));
    const rows: { entry: EntryRow['entry']; canonical: string; nodes: string | null }[] =
      await this.dataSource.query(
        `SELECT e.entry, e.entry_canonical AS canonical, ${nodesColumn('$2', '$3')}
           FROM audit.entries e WHERE e.seq = $1`,
        [seq, missing.map((w) => w.level), missing.map((w) => w.index)],
      );
    const staff = user.roles.some((r) => r !== 'service_user');
    // A person may see proofs of their own entries only; others get the same 404 as a gap.
    if (rows.length === 0 || (!staff && !canActOnSubject(user, rows[0].entry.subjectId ?? ''))) {
      throw new DomainError('ENTRY_NOT_FOUND', `No entry ${seq} is in the log.`, 'not-found');
    }
    const { path, root } = work(storeOf(addNodes(held, rows[0].nodes)));
    const leaf = leafHash(rows[0].canonical);
    assertProves(head, seq, leaf, path);
    return proofAnswer(seq, treeSize, leaf, path, root, rows[0].entry, head);
  }

  @Get('consistency')
  @Roles('ig_officer', 'caldicott_guardian', 'system')
  @ApiQuery({ name: 'from', description: 'older tree size' })
  @ApiQuery({ name: 'to', description: 'newer tree size' })
  @ApiOkResponse({ description: '`{from, to, proof[]}` (RFC 9162 consistency proof)' })
  async consistency(
    @Query('from') fromText: string | undefined,
    @Query('to') toText: string | undefined,
  ): Promise<{ from: number; to: number; proof: string[]; fromRoot: string; toRoot: string }> {
    const problems: FieldProblem[] = [];
    const from = wholeNumberParameter('from', fromText ?? '', problems);
    const to = wholeNumberParameter('to', toText ?? '', problems);
    if (problems.length > 0 || from === undefined || to === undefined) throw invalidInput(problems);
    const [{ size }]: { size: string }[] = await this.dataSource.query(
      `SELECT coalesce(max(seq), 0)::text AS size FROM audit.entries`,
    );
    if (from > to || to > Number(size)) {
      throw invalidInput([{ field: 'to', problem: `need from <= to <= ${size} (the log's size)` }]);
    }
    const work = (store: Parameters<typeof rootHash>[0]) => ({
      proof: consistencyProof(store, from, to),
      fromRoot: rootHash(store, from),
      toRoot: rootHash(store, to),
    });
    const nodes = await loadNodes(this.dataSource, planNodes(work));
    const result = work(storeOf(nodes));
    return {
      from,
      to,
      proof: result.proof.map((h) => h.toString('hex')),
      fromRoot: result.fromRoot.toString('hex'),
      toRoot: result.toRoot.toString('hex'),
    };
  }
}

/**
 * The stored nodes a proof reads that are not in memory (levels and indexes in the two array
 * parameters named), as one text column of `level:index:hex` items: a few rows' worth, so one
 * round trip carries them with the entry.
 */
function nodesColumn(levels: string, indexes: string): string {
  return `(SELECT string_agg(n.level || ':' || n.index || ':' || encode(n.hash, 'hex'), ',')
             FROM audit.merkle_nodes n
             JOIN unnest(${levels}::smallint[], ${indexes}::bigint[]) AS w(level, index)
               ON n.level = w.level AND n.index = w.index) AS nodes`;
}

/** The answer of the proof route (API.md). */
function proofAnswer(
  seq: number,
  treeSize: number,
  leaf: Buffer,
  path: Buffer[],
  root: Buffer,
  entry: unknown,
  treeHead: TreeHead | null,
): Record<string, unknown> {
  return {
    seq,
    leafIndex: seq - 1,
    leafHash: leaf.toString('hex'),
    treeSize,
    auditPath: path.map((h) => h.toString('hex')),
    rootHash: root.toString('hex'),
    entry,
    treeHead,
  };
}

/** An inclusion proof of entry `seq` and the root it leads to, from a store of nodes. */
function proofWork(seq: number, treeSize: number) {
  return (store: NodeStore) => ({
    path: inclusionProof(store, seq - 1, treeSize),
    root: rootHash(store, treeSize),
  });
}

/** The held nodes and those read as `nodesColumn`, keyed as `storeOf` reads them. */
function addNodes(held: Map<string, Buffer>, column: string | null): Map<string, Buffer> {
  const nodes = new Map(held);
  for (const node of column?.split(',') ?? []) {
    const [level, index, hex] = node.split(':');
    nodes.set(`${level}:${index}`, Buffer.from(hex, 'hex'));
  }
  return nodes;
}

/**
 * A proof is built from stored interior nodes, which `audit:verify` does not read; one that does
 * not reach the signed root means the stored tree was changed. Refuse to hand it out (a person
 * would be told their entry is not in the log) and fail loudly instead: a 500, logged.
 */
function assertProves(head: TreeHead, seq: number, leaf: Buffer, path: Buffer[]): void {
  if (!verifyInclusion(leaf, seq - 1, head.treeSize, path, Buffer.from(head.rootHash, 'hex'))) {
    throw new Error(
      `stored Merkle nodes do not prove entry ${seq} against the signed tree head of size ${head.treeSize}; treat the log as tampered and run audit:verify`,
    );
  }
}
