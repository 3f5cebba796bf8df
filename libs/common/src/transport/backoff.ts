/** Exponential backoff with full jitter, capped; attempt counts from 0. */
export function backoffDelay(attempt: number, baseMs = 100, capMs = 5000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** A sleep that `wake()` can cut short, so stopping a poller never waits out its interval. */
export class Sleeper {
  private timer: NodeJS.Timeout | null = null;
  private resolve: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.wake(), ms);
    });
  }

  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const resolve = this.resolve;
    this.resolve = null;
    resolve?.();
  }
}

/**
 * Runs `work` until stopped: again at once while it fills whole batches, after `idleMs` when
 * it does not, and with growing backoff while it fails (a failure never stops the loop).
 */
export class PollingLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private healthy = true;
  private readonly sleeper = new Sleeper();

  constructor(
    private readonly work: () => Promise<number>,
    private readonly options: {
      batchSize: number;
      idleMs: number;
      backoffBaseMs?: number;
      backoffCapMs?: number;
      onError: (error: unknown, retryInMs: number) => void;
    },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the work in hand finish, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = null;
  }

  /** False from a failure until the next success. */
  isHealthy(): boolean {
    return this.healthy;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const done = await this.work();
        failures = 0;
        this.healthy = true;
        if (done < this.options.batchSize && this.running)
          await this.sleeper.sleep(this.options.idleMs);
      } catch (error) {
        this.healthy = false;
        const delay = backoffDelay(
          failures++,
          this.options.backoffBaseMs,
          this.options.backoffCapMs,
        );
        this.options.onError(error, delay);
        if (this.running) await this.sleeper.sleep(delay);
      }
    }
  }
}
