import { Worker } from 'node:worker_threads';
import type { StoredMessage } from './decode.js';
import type { Fold, RecordedFoldInput } from './fold.js';

/** A batch as it crosses to a thread: the message bodies in one transferred buffer, each message its slice. */
export interface FoldRequest {
  id: number;
  input: Omit<RecordedFoldInput, 'messages'>;
  bytes: ArrayBuffer;
  messages: Array<Omit<StoredMessage, 'data'> & { from: number; to: number }>;
}

type FoldReply = { id: number; fold: Fold; error?: undefined } | { id: number; error: string };

// Threads run compiled JavaScript: beside this module once built, and from the TypeScript sources (as
// tests run them), the build's copy.
const SCRIPT = import.meta.url.endsWith('.ts') ? new URL('../dist/fold-thread.js', import.meta.url) : new URL('./fold-thread.js', import.meta.url);

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (fold: Fold) => void; reject: (e: Error) => void }>;
}

/**
 * Folds a rebuild's batches on worker threads, so that the event loop keeps reading the stream and
 * writing other batches meanwhile: parsing and folding are most of a rebuild's CPU, and the message
 * bytes go over in one transferred buffer while only the changes, far fewer than the events, come
 * back. Threads start at the first batch; one that fails is replaced at the next.
 */
export class FoldThreads {
  private readonly threads: Array<Thread | undefined>;
  private next = 0;
  private ids = 0;

  constructor(
    count: number,
    private readonly script: URL = SCRIPT,
  ) {
    this.threads = Array.from({ length: count }, () => undefined);
  }

  fold(input: RecordedFoldInput): Promise<Fold> {
    const slot = this.next++ % this.threads.length;
    const thread = (this.threads[slot] ??= this.start(slot));
    let size = 0;
    for (const m of input.messages) size += m.data.byteLength;
    const body = new Uint8Array(size);
    const messages: FoldRequest['messages'] = [];
    let at = 0;
    for (const m of input.messages) {
      body.set(m.data, at);
      messages.push({ seq: m.seq, subject: m.subject, storedMs: m.storedMs, events: m.events, from: at, to: at + m.data.byteLength });
      at += m.data.byteLength;
    }
    const id = this.ids++;
    const request: FoldRequest = { id, input: { partitions: input.partitions, groups: input.groups, skips: input.skips }, bytes: body.buffer, messages };
    return new Promise<Fold>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage(request, [body.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t?.worker.terminate()));
    this.threads.fill(undefined);
  }

  private start(slot: number): Thread {
    const thread: Thread = { worker: new Worker(this.script), pending: new Map() };
    thread.worker.on('message', (reply: FoldReply) => {
      const waiter = thread.pending.get(reply.id);
      thread.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(`folding on a thread failed: ${reply.error}`));
      else waiter?.resolve(reply.fold);
    });
    const fail = (e: Error) => {
      if (this.threads[slot] === thread) this.threads[slot] = undefined;
      for (const waiter of thread.pending.values()) waiter.reject(e);
      thread.pending.clear();
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => fail(new Error(`the fold thread exited (${code})`)));
    // An idle thread must not keep the process alive.
    thread.worker.unref();
    return thread;
  }
}
