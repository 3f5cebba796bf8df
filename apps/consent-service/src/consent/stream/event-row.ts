import type { EventMetadata, StoredEvent } from '../domain/events';

/** A row of consent.events as the driver returns it. */
export interface EventRow {
  event_id: string;
  stream_position: number;
  type: StoredEvent['type'];
  data: StoredEvent['data'];
  metadata: EventMetadata;
  recorded_at: Date;
}

/** The columns every reader of the log selects, in EventRow's shape. */
export const EVENT_COLUMNS = 'event_id, stream_position, type, data, metadata, recorded_at';

/** A stored event from its row. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    type: row.type,
    data: row.data,
    eventId: row.event_id,
    streamVersion: row.stream_position,
    recordedAt: new Date(row.recorded_at).toISOString(),
    metadata: row.metadata,
  } as StoredEvent;
}
