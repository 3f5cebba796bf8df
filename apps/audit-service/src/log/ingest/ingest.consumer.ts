import { Injectable, type OnModuleInit } from '@nestjs/common';
import { TOPIC_NAMES, TransportService } from '#common';
import { LogAppender } from '../append/log-appender';
import { entryFromEvent } from './entry-from-event';

/**
 * Appends one log entry per event from every stream (consent, gateway, the audit service's
 * own reviews and notices). The transport's inbox and this append share one transaction, so
 * an event redelivered after a crash is never logged twice.
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
          await this.appender.append(tx, events.map(entryFromEvent));
        },
      });
    }
  }
}
