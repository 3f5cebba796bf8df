import { Module } from '@nestjs/common';
import { ConsentReplicaConsumer } from '../consent-replica/consent-replica.consumer';
import { RecordController } from '../record/record.controller';
import { RecordSource } from '../record/record-source';
import { DecisionFactsRepository } from './decision-facts.repository';
import { DecisionWriter } from './decision-writer';
import { DecisionService } from './decision.service';
import { DecisionsController } from './decisions.controller';
import { GatewayMetrics } from './gateway-metrics';

/** Decisions, their replay, the record proxy, and the consent replica they read. */
@Module({
  controllers: [DecisionsController, RecordController],
  providers: [
    ConsentReplicaConsumer,
    DecisionFactsRepository,
    DecisionWriter,
    DecisionService,
    GatewayMetrics,
    RecordSource,
  ],
})
export class DecisionsModule {}
