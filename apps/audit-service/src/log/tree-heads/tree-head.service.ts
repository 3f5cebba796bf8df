import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, SERVICE_LOGGER, type Logger } from '#common';
import type { AuditServiceEnv } from '../../config/env';
import { planNodes, rootHash } from '../domain/merkle';
import { loadNodes, readHead, storeOf } from '../append/log-appender';
import { loadSigningKey, type SigningKey } from './signing-key';
import { signTreeHead, type TreeHead } from './tree-head';

/** A tree_heads row as read with tree_size as text. */
export interface HeadRow {
  tree_size: string;
  root_hash: Buffer;
  issued_at: Date;
  signature: Buffer;
  key_id: string;
}

export function toTreeHead(r: HeadRow): TreeHead {
  return {
    treeSize: Number(r.tree_size),
    rootHash: r.root_hash.toString('hex'),
    timestamp: r.issued_at.toISOString(),
    signature: r.signature.toString('base64'),
    keyId: r.key_id,
  };
}

const CHECK_MS = 200;

/** Every signed head, oldest first (for verification). */
export async function readTreeHeads(db: Pick<DataSource, 'query'>): Promise<TreeHead[]> {
  const rows: HeadRow[] = await db.query(
    `SELECT tree_size::text, root_hash, issued_at, signature, key_id
       FROM audit.tree_heads h ORDER BY h.tree_size`,
  );
  return rows.map(toTreeHead);
}

/**
 * Issues signed tree heads: every TREE_HEAD_INTERVAL_MS while the log grows, or as soon as
 * TREE_HEAD_MAX_ENTRIES entries are not yet covered. Any replica may issue one; an advisory
 * lock keeps two from computing the same head at once.
 */
@Injectable()
export class TreeHeadService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly key: SigningKey;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private lastIssuedAt = 0;
  private known: TreeHead | null = null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: AuditServiceEnv,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {
    this.key = loadSigningKey(config.AUDIT_SIGNING_KEY_FILE, config.DATA_DIR);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource
      .query(
        `INSERT INTO audit.signing_keys (key_id, algorithm, public_key_pem) VALUES ($1, 'Ed25519', $2)
         ON CONFLICT (key_id) DO NOTHING`,
        [this.key.keyId, this.key.publicKeyPem],
      )
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'could not publish the tree-head key; will retry'),
      );
    this.timer = setInterval(() => {
      this.running = this.tick().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'tree head not issued; will retry'),
      );
    }, CHECK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Issues a head now if the log has grown past the last one (returns it), else null. */
  async issueIfDue(force = false): Promise<TreeHead | null> {
    return this.dataSource.transaction(async (tx) => {
      const [{ locked }]: { locked: boolean }[] = await tx.query(
        `SELECT pg_try_advisory_xact_lock(hashtext('audit-tree-head')) AS locked`,
      );
      if (!locked) return null;
      await tx.query(
        `INSERT INTO audit.signing_keys (key_id, algorithm, public_key_pem) VALUES ($1, 'Ed25519', $2)
         ON CONFLICT (key_id) DO NOTHING`,
        [this.key.keyId, this.key.publicKeyPem],
      );
      const head = await readHead(tx);
      const latest = await this.latest(tx);
      const uncovered = head.size - (latest?.treeSize ?? 0);
      const due =
        latest === null ||
        (uncovered > 0 &&
          (force ||
            uncovered >= this.config.TREE_HEAD_MAX_ENTRIES ||
            Date.now() - this.lastIssuedAt >= this.config.TREE_HEAD_INTERVAL_MS));
      if (!due) return null;
      const nodes = await loadNodes(
        tx,
        planNodes((store) => rootHash(store, head.size)),
      );
      const signed = signTreeHead(
        {
          treeSize: head.size,
          rootHash: rootHash(storeOf(nodes), head.size).toString('hex'),
          timestamp: new Date().toISOString(),
          keyId: this.key.keyId,
        },
        this.key.privateKey,
      );
      await tx.query(
        `INSERT INTO audit.tree_heads (tree_size, root_hash, issued_at, signature, key_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING`,
        [
          signed.treeSize,
          Buffer.from(signed.rootHash, 'hex'),
          signed.timestamp,
          Buffer.from(signed.signature, 'base64'),
          signed.keyId,
        ],
      );
      this.lastIssuedAt = Date.now();
      return signed;
    });
  }

  /** The newest signed tree head, or null before the first. */
  async latest(db: Pick<DataSource, 'query'> = this.dataSource): Promise<TreeHead | null> {
    const rows: HeadRow[] = await db.query(
      `SELECT tree_size::text, root_hash, issued_at, signature, key_id
         FROM audit.tree_heads h ORDER BY h.tree_size DESC LIMIT 1`,
    );
    return rows.length === 0 ? null : toTreeHead(rows[0]);
  }

  /** The signed head at exactly this size, if one was issued. */
  async atSize(treeSize: number): Promise<TreeHead | null> {
    const rows: HeadRow[] = await this.dataSource.query(
      `SELECT tree_size::text, root_hash, issued_at, signature, key_id
         FROM audit.tree_heads WHERE tree_size = $1`,
      [treeSize],
    );
    return rows.length === 0 ? null : toTreeHead(rows[0]);
  }

  /**
   * The newest signed head this replica has seen, at most one check (CHECK_MS) old, or null.
   * Any signed head is a valid answer to "prove against the latest"; a caller needing one that
   * covers something newer reads `latest()`.
   */
  latestKnown(): TreeHead | null {
    return this.known;
  }

  private async tick(): Promise<void> {
    await this.issueIfDue();
    // Every replica refreshes it, including one that never wins the issuing lock.
    this.known = await this.latest();
  }
}
