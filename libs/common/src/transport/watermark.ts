import type { KafkaMessage } from 'kafkajs';

/**
 * The `event-type` header of a relay watermark: not an event, never handed to a handler. It
 * says that every event its outbox committed before `asOf` has been published to the topic.
 */
export const WATERMARK_EVENT_TYPE = 'transport.watermark';

export interface Watermark {
  asOf: string;
  /** How many partitions the topic had when it was sent; null for the send that created it. */
  partitions: number | null;
}

export function isWatermark(message: KafkaMessage): boolean {
  return message.headers?.['event-type']?.toString() === WATERMARK_EVENT_TYPE;
}

/** The moment a watermark vouches for and the partition count it was sent to, when well formed. */
export function readWatermark(message: KafkaMessage): { asOf: Date; partitions: number } | null {
  try {
    const value = JSON.parse(message.value?.toString('utf8') ?? 'null') as Partial<Watermark>;
    const asOf = new Date(value.asOf ?? Number.NaN);
    const { partitions } = value;
    if (Number.isNaN(asOf.getTime())) return null;
    if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
      return null;
    }
    return { asOf, partitions };
  } catch {
    return null;
  }
}

/**
 * The moment up to which every partition has been applied: the oldest watermark over the
 * topic's partitions as the newest watermark counts them, or null while one has none.
 */
export function oldestWatermark(
  rows: readonly { partition: number; partitions: number; as_of: Date }[],
): Date | null {
  const partitions = Math.max(0, ...rows.map((r) => r.partitions));
  const current = rows.filter((r) => r.partition < partitions);
  if (partitions === 0 || current.length < partitions) return null;
  return new Date(Math.min(...current.map((r) => r.as_of.getTime())));
}
