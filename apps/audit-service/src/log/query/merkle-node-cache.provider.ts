import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { SERVICE_CONFIG, SERVICE_LOGGER, ServiceMetrics, type Logger } from '#common';
import type { AuditServiceEnv } from '../../config/env';
import { TreeHeadService } from '../tree-heads/tree-head.service';
import { MerkleNodeCache, type NodeRange, type NodeRun } from './merkle-node-cache';

/** How often the keeper looks for a newer head: as often as TreeHeadService learns of one. */
const CHECK_MS = 200;

/**
 * Reads ranges of stored nodes in one query, each range's hashes concatenated in index order
 * (one bytea per range rather than one row per node: a first fill is 125,000 nodes at
 * 1,000,000 entries). A hash that is not 32 bytes is not counted, so its range is refused.
 */
export function readNodeRanges(db: Pick<EntityManager, 'query'>) {
  return async (ranges: NodeRange[]): Promise<NodeRun[]> => {
    const rows: { level: number; first: string; count: number; hashes: Buffer }[] = await db.query(
      `SELECT w.level, w.first::text AS first,
                count(*) FILTER (WHERE length(n.hash) = 32)::int AS count,
                string_agg(n.hash, ''::bytea ORDER BY n.index) AS hashes
           FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS w(level, first, stop)
           JOIN audit.merkle_nodes n
             ON n.level = w.level AND n.index >= w.first AND n.index < w.stop
          GROUP BY w.level, w.first`,
      [ranges.map((r) => r.level), ranges.map((r) => r.first), ranges.map((r) => r.stop)],
    );
    return rows.map((r) => ({
      level: r.level,
      first: Number(r.first),
      count: r.count,
      hashes: r.hashes,
    }));
  };
}

/** The audit service's one MerkleNodeCache, sized by PROOF_CACHE_MAX_NODES, with its metrics. */
export const merkleNodeCacheProvider: Provider = {
  provide: MerkleNodeCache,
  inject: [DataSource, SERVICE_CONFIG, ServiceMetrics],
  useFactory: (
    dataSource: DataSource,
    config: AuditServiceEnv,
    metrics: ServiceMetrics,
  ): MerkleNodeCache => {
    const cache = new MerkleNodeCache(readNodeRanges(dataSource), config.PROOF_CACHE_MAX_NODES);
    // Read from the cache's own tallies when scraped: nothing is added to a proof's work.
    new Counter({
      name: 'audit_proof_nodes_total',
      help: 'Merkle nodes proofs needed, by where they came from (memory: the node cache)',
      labelNames: ['source'],
      registers: [metrics.registry],
      collect() {
        const { hits, misses } = cache.stats;
        this.reset();
        this.inc({ source: 'memory' }, hits);
        this.inc({ source: 'database' }, misses);
      },
    });
    new Gauge({
      name: 'audit_proof_node_cache_nodes',
      help: 'Merkle nodes held in memory for proofs',
      registers: [metrics.registry],
      collect() {
        this.set(cache.nodeCount);
      },
    });
    return cache;
  },
};

/**
 * Keeps the node cache at the newest signed head this replica knows (whoever issued it), in
 * the background: a proof never waits for a fill, and the first proofs after a start or after
 * a burst of appends do not pay for one. Until a refresh lands, proofs read the nodes it would
 * have brought, in their own single round trip.
 */
@Injectable()
export class MerkleNodeCacheKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly cache: MerkleNodeCache,
    private readonly treeHeads: TreeHeadService,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.keepUp(), CHECK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private keepUp(): void {
    const head = this.treeHeads.latestKnown();
    if (!head || head.treeSize <= this.cache.coveredSize) return;
    this.running = this.cache
      .refresh(head.treeSize)
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'Merkle node cache not refreshed; proofs read the nodes'),
      );
  }
}
