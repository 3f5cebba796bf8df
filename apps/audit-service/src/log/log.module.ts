import { Module } from '@nestjs/common';
import { BreakGlassController } from '../break-glass/break-glass.controller';
import { DisclosuresController } from '../disclosures/disclosures.controller';
import { LogAppender } from './append/log-appender';
import { IngestConsumer } from './ingest/ingest.consumer';
import { EntriesController } from './query/entries.controller';
import { MerkleNodeCacheKeeper, merkleNodeCacheProvider } from './query/merkle-node-cache.provider';
import { TreeHeadService } from './tree-heads/tree-head.service';
import { LogVerifier } from './verify/log-verifier';
import { VerifyController } from './verify/verify.controller';

/** The tamper-evident log, what is read from it, and the reviews written into it. */
@Module({
  controllers: [EntriesController, VerifyController, DisclosuresController, BreakGlassController],
  providers: [
    LogAppender,
    IngestConsumer,
    TreeHeadService,
    LogVerifier,
    merkleNodeCacheProvider,
    MerkleNodeCacheKeeper,
  ],
  exports: [LogAppender, TreeHeadService, LogVerifier],
})
export class LogModule {}
