/** How a CallBatcher groups calls. */
export interface BatchPolicy {
  /** At most this many calls go in one batch. */
  maxBatch: number;
  /** At most this many batches run at once. */
  maxInFlight: number;
  /**
   * While a batch runs, another starts only once this many calls wait; fewer wait for a running
   * batch to finish and then go together. Starting one batch per free slot at once keeps batches
   * small, and each batch has a fixed cost (a round trip, a statement, a commit).
   */
  minParallelBatch: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups concurrent calls into batches: calls that arrive while batches run wait and go together
 * in the next one, so a fixed cost per batch is shared by every call in it. `run` answers a batch
 * with one result per item, in order; when it throws, every call of that batch rejects with the
 * error. Batches are independent of each other: the order they finish in does not matter.
 */
export class CallBatcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly policy: BatchPolicy,
    private readonly run: (items: I[]) => Promise<O[]>,
  ) {}

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.startBatches();
    });
  }

  private startBatches(): void {
    const { maxBatch, maxInFlight, minParallelBatch } = this.policy;
    while (
      this.inFlight < maxInFlight &&
      this.queue.length > 0 &&
      (this.inFlight === 0 || this.queue.length >= minParallelBatch)
    ) {
      this.inFlight++;
      void this.settle(this.queue.splice(0, maxBatch)).finally(() => {
        this.inFlight--;
        this.startBatches();
      });
    }
  }

  private async settle(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.run(batch.map((w) => w.item));
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} calls was answered ${results.length} times`);
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }
}
