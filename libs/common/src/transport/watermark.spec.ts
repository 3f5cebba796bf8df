import type { KafkaMessage } from 'kafkajs';
import { isWatermark, oldestWatermark, readWatermark, WATERMARK_EVENT_TYPE } from './watermark';

function message(value: unknown, type: string | null = WATERMARK_EVENT_TYPE): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: type === null ? {} : { 'event-type': Buffer.from(type) },
    timestamp: '0',
    attributes: 0,
    offset: '0',
  } as KafkaMessage;
}

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 9, 0, s));

describe('relay watermarks', () => {
  it('are told from events by their event-type header alone', () => {
    expect(isWatermark(message({ asOf: at(0).toISOString(), partitions: 4 }))).toBe(true);
    expect(isWatermark(message({ id: 'e1' }, 'consent.granted.v1'))).toBe(false);
    expect(isWatermark(message({ asOf: at(0).toISOString(), partitions: 4 }, null))).toBe(false);
  });

  it.each([
    [
      'well formed',
      { asOf: '2026-11-25T09:00:01.000Z', partitions: 4 },
      { asOf: at(1), partitions: 4 },
    ],
    [
      'the send that created the topic',
      { asOf: '2026-11-25T09:00:01.000Z', partitions: null },
      null,
    ],
    ['no partitions', { asOf: '2026-11-25T09:00:01.000Z', partitions: 0 }, null],
    ['fractional partitions', { asOf: '2026-11-25T09:00:01.000Z', partitions: 2.5 }, null],
    ['no moment', { partitions: 4 }, null],
    ['a moment that is not a date', { asOf: 'yesterday', partitions: 4 }, null],
    ['not json', '{"asOf":', null],
  ])('read: %s', (_name, value, expected) => {
    expect(readWatermark(message(value))).toEqual(expected);
  });

  describe('oldestWatermark', () => {
    const row = (partition: number, s: number, partitions = 3) => ({
      partition,
      partitions,
      as_of: at(s),
    });

    it('is the oldest of the partitions once every partition has one', () => {
      expect(oldestWatermark([row(0, 9), row(1, 4), row(2, 7)])).toEqual(at(4));
    });

    it('is nothing while a partition has none: its events may not have been applied', () => {
      expect(oldestWatermark([row(0, 9), row(2, 7)])).toBeNull();
      expect(oldestWatermark([])).toBeNull();
    });

    it('counts the partitions the newest watermark names, so a grown topic waits for its new ones', () => {
      expect(oldestWatermark([row(0, 9, 4), row(1, 8, 3), row(2, 7, 3)])).toBeNull();
      expect(oldestWatermark([row(0, 9, 4), row(1, 8, 3), row(2, 7, 3), row(3, 6, 4)])).toEqual(
        at(6),
      );
    });
  });
});
