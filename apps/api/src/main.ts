import { Logger } from '@nestjs/common';
import { createApi } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const app = await createApi(config);
// SIGTERM (a deployment rolling) closes the server, the live sockets, NATS and the pool in order instead of cutting requests mid-publish.
app.enableShutdownHooks();
await app.listen(config.port, config.host);
new Logger('pulse-api').log(`listening on http://${config.host}:${config.port}`);
