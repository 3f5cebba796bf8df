import { Injectable, type OnModuleInit } from '@nestjs/common';
import { TOPIC_NAMES, TransportService } from '#common';
import { LogAppender } from '../append/log-appender';
import { entryFromEvent } from './entry-from-event';

/**
 * Appends one log entry per event from every stream (consent, gateway, the audit service's
 * own reviews and notices). An event redelivered after a crash is never logged twice: the
 * append passes over events whose entry is already in the log (source_event_id is unique),
 * checked under the chain lock, so the transport keeps no inbox for these groups.
 */
@Injectable()
export class IngestConsumer implements OnModuleInit {
  constructor(
    private readonly transport: TransportService,
    private readonly appender: LogAppender,
  ) {}

  onModuleInit(): void {
    for (const topic of TOPIC_NAMES) {
      this.transport.subscribe(`audit-service.ingest.${topic}`, topic, {
        handle: async (events, tx) => {
          await this.appender.appendNew(tx, events.map(entryFromEvent));
        },
        // Each entry names its source event, unique in the log: no inbox row per event too.
        deduplicates: true,
      });
    }
  }
}
