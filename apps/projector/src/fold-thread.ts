// A worker thread's side of FoldThreads: folds a rebuild's batch off the event loop.
import { parentPort } from 'node:worker_threads';
import { foldRecorded } from './fold.js';
import type { FoldRequest } from './fold-threads.js';

parentPort!.on('message', ({ id, input, bytes, messages }: FoldRequest) => {
  try {
    const body = new Uint8Array(bytes);
    const fold = foldRecorded({ ...input, messages: messages.map((m) => ({ seq: m.seq, subject: m.subject, storedMs: m.storedMs, events: m.events, data: body.subarray(m.from, m.to) })) });
    parentPort!.postMessage({ id, fold });
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).stack ?? String(e) });
  }
});
