import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventTypes, renderAsyncApi } from './index.js';

describe('the committed AsyncAPI document', () => {
  const committed = readFileSync(fileURLToPath(new URL('../asyncapi.json', import.meta.url)), 'utf8');

  it('is what the contracts generate today (regenerate with `npm run build && npm run asyncapi`)', () => {
    expect(committed).toEqual(renderAsyncApi());
  });

  it('is an AsyncAPI 3 document with a channel and a payload schema for every event type', () => {
    const doc = JSON.parse(committed);
    expect(doc.asyncapi).toBe('3.0.0');
    for (const type of eventTypes) {
      expect(doc.channels[type].address).toMatch(new RegExp(`^pulse\\.events\\.[a-z]+\\.${type.replace('.', '\\.')}\\.\\{partition\\}$`));
      expect(doc.components.schemas[`${type}.v1`].type).toBe('object');
    }
  });
});
