// The thread that hashes pages for LogVerifier (see page-hasher.ts): it receives a page's rows
// in shared memory, writes each row's leaf and chain-hash check to shared memory, and answers
// with the number of rows.
import { parentPort } from 'node:worker_threads';
import { EntryPage } from './entry-page';

interface HashRequest {
  id: number;
  entries: SharedArrayBuffer;
  entriesOffset: number;
  entriesLength: number;
  results: SharedArrayBuffer;
  resultsOffset: number;
  resultsLength: number;
}

parentPort?.on('message', (request: HashRequest) => {
  try {
    const rows = EntryPage.hashRows(
      Buffer.from(request.entries, request.entriesOffset, request.entriesLength),
      Buffer.from(request.results, request.resultsOffset, request.resultsLength),
    );
    parentPort?.postMessage({ id: request.id, rows });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message });
  }
});
