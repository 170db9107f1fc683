import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderAsyncApi } from './generate.js';

// Regenerates libs/contracts/asyncapi.json (run through `npm run asyncapi` after a build).
const target = fileURLToPath(new URL('../../asyncapi.json', import.meta.url));
writeFileSync(target, renderAsyncApi());
console.log(`wrote ${target}`);
