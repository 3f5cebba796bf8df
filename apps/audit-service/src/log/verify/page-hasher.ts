import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EntryPage, ROW_RESULT } from './entry-page';

/** A page's rows in shared memory, and room for their hash results. */
export interface SharedPage {
  entries: Buffer;
  results: Buffer;
}

/** Allocates a buffer other threads can read and write (for pages and their results). */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** Room for the hash results of `rows` rows. */
export function resultsFor(rows: number): Buffer {
  return sharedBuffer(rows * ROW_RESULT);
}

/**
 * Hashes pages of entries (EntryPage.hashRows) on a thread of its own, so that while it hashes
 * one page this thread receives the next and walks the last: two SHA-256 of every entry were
 * most of the verifier's work, and one thread could not keep up with PostgreSQL. Where the
 * compiled worker script does not exist (tests run the TypeScript sources), pages are hashed on
 * this thread instead, by the same function.
 */
export class PageHasher {
  private readonly worker: Worker | null;
  private readonly pending = new Map<
    number,
    { resolve: (rows: number) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;

  constructor() {
    const script = join(__dirname, 'hash-worker.js');
    this.worker = __filename.endsWith('.js') && existsSync(script) ? new Worker(script) : null;
    this.worker?.on('message', (answer: { id: number; rows?: number; error?: string }) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.rows as number);
    });
    this.worker?.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
    // An idle hasher does not keep the process alive.
    this.worker?.unref();
  }

  /** Hashes the page's rows into its results; resolves with the number of rows. */
  hash(page: SharedPage): Promise<number> {
    if (!this.worker) return Promise.resolve(EntryPage.hashRows(page.entries, page.results));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.worker as Worker).postMessage({
        id,
        entries: page.entries.buffer,
        entriesOffset: page.entries.byteOffset,
        entriesLength: page.entries.length,
        results: page.results.buffer,
        resultsOffset: page.results.byteOffset,
        resultsLength: page.results.length,
      });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
