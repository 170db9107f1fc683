// Serves the built console (dist/browser) with an SPA fallback, and /config.json from the environment.
// Dependency-free on purpose: the console is static files plus one line of runtime configuration.
//   PULSE_API_URL  API origin the browser talks to (default http://127.0.0.1:3000; the API enables CORS)
//   PORT           default 4200
//   HOST           default 127.0.0.1
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'dist', 'browser');
const apiUrl = (process.env.PULSE_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const port = Number(process.env.PORT ?? 4200);
const host = process.env.HOST ?? '127.0.0.1';

if (apiUrl !== '' && !/^https?:\/\/[^/]+$/.test(apiUrl)) {
  console.error(`PULSE_API_URL must be an http(s) origin without a path, got "${apiUrl}"`);
  process.exit(1);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(1);
}
try {
  await stat(join(root, 'index.html'));
} catch {
  console.error(`${join(root, 'index.html')} is missing: build the console first (cd apps/web && npx ng build)`);
  process.exit(1);
}

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const config = JSON.stringify({ apiUrl });

async function fileFor(pathname) {
  const path = normalize(join(root, decodeURIComponent(pathname)));
  if (path !== root && !path.startsWith(root + sep)) return null;
  try {
    const info = await stat(path);
    return info.isFile() ? path : null;
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname;
  try {
    pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (pathname === '/config.json') {
    res.writeHead(200, { 'content-type': types['.json'], 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : config);
    return;
  }
  let file = pathname === '/' ? null : await fileFor(pathname);
  // Client-side routes (no file extension) get the app; a missing asset is a real 404.
  if (!file && extname(pathname) === '') file = join(root, 'index.html');
  if (!file) {
    res.writeHead(404, { 'content-type': types['.txt'] }).end('Not found');
    return;
  }
  // Built chunks carry a content hash in their name and never change; anything else is re-validated.
  const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(file);
  res.writeHead(200, {
    'content-type': types[extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`Pulse console on http://${host}:${typeof address === 'object' && address ? address.port : port} (API ${apiUrl})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
