import { CallBatcher } from './call-batcher';

/** A batcher whose batches the test settles by hand. */
function setUp(policy = { maxBatch: 4, maxInFlight: 2, minParallelBatch: 3 }) {
  const batches: { items: number[]; answer: (r: string[]) => void; fail: (e: Error) => void }[] =
    [];
  const batcher = new CallBatcher<number, string>(
    policy,
    (items) => new Promise<string[]>((answer, fail) => batches.push({ items, answer, fail })),
  );
  return { batcher, batches };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CallBatcher', () => {
  it('sends the first call at once and groups those that arrive while it runs', async () => {
    const { batcher, batches } = setUp();
    const results = [1, 2, 3].map((n) => batcher.call(n));
    // 2 and 3 wait: fewer than minParallelBatch (3) while a batch runs.
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0].answer(['one']);
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3]]);
    batches[1].answer(['two', 'three']);
    expect(await Promise.all(results)).toEqual(['one', 'two', 'three']);
  });

  it('runs a second batch alongside once enough calls wait, never more than maxInFlight', async () => {
    const { batcher, batches } = setUp();
    const results = Array.from({ length: 12 }, (_, n) => batcher.call(n));
    // [0] at once; [1, 2, 3] as soon as three wait; the rest wait for a free slot.
    expect(batches.map((b) => b.items)).toEqual([[0], [1, 2, 3]]);
    batches[1].answer(['b', 'c', 'd']);
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[0], [1, 2, 3], [4, 5, 6, 7]]);
    batches[0].answer(['a']);
    await tick();
    expect(batches[3].items).toEqual([8, 9, 10, 11]);
    batches[2].answer(['e', 'f', 'g', 'h']);
    batches[3].answer(['i', 'j', 'k', 'l']);
    expect((await Promise.all(results)).join('')).toBe('abcdefghijkl');
  });

  it('rejects every call of a failed batch only, with its error', async () => {
    const { batcher, batches } = setUp();
    const first = batcher.call(1);
    const rest = [2, 3].map((n) => batcher.call(n));
    batches[0].fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await tick();
    batches[1].answer(['two', 'three']);
    expect(await Promise.all(rest)).toEqual(['two', 'three']);
  });

  it('rejects a batch answered with too few or too many results', async () => {
    const { batcher, batches } = setUp();
    const first = batcher.call(1);
    batches[0].answer([]);
    await expect(first).rejects.toThrow('a batch of 1 calls was answered 0 times');
  });
});
