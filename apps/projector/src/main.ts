import { Logger } from '@nestjs/common';
import { startProjector } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const { app } = await startProjector(config);
app.enableShutdownHooks();
new Logger('pulse-projector').log(`projecting ${config.names.eventsStream} into ${new URL(config.databaseUrl).pathname.slice(1)}`);
