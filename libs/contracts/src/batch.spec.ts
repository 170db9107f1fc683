import { eventTexts } from './batch.js';

const decode = (texts: Uint8Array[]) => texts.map((t) => JSON.parse(Buffer.from(t).toString('utf8')) as unknown);

/** A deterministic generator of JSON values, with the characters a scanner can trip on inside strings. */
function values(seed: number) {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pieces = ['a', ',', ']', '}', '[', '{', '"', '\\', '\\"', '\n', 'é', '🛒', '\u0000', ' ', ':'];
  const str = () => Array.from({ length: Math.floor(next() * 8) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.3) return [str(), Math.floor(next() * 1e6) - 5e5, next() < 0.5, null, next() * 10][Math.floor(next() * 5)];
    if (r < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [str(), value(depth + 1)]));
  };
  return value;
}

describe('the JSON text of each event of a request body', () => {
  it('finds each element of a batch as it was sent, however it is spaced', () => {
    const body = ' \n[ {"id":"a","note":"x, ] } \\" \\\\"} ,\n\t{ "id" : "b", "nested": [1, {"k": [2]}] }\r\n, 42 ,"s,]" , [ ] ,null]\n';
    const texts = eventTexts(Buffer.from(body));
    expect(texts.map((t) => Buffer.from(t).toString())).toEqual(['{"id":"a","note":"x, ] } \\" \\\\"}', '{ "id" : "b", "nested": [1, {"k": [2]}] }', '42', '"s,]"', '[ ]', 'null']);
    expect(decode(texts)).toEqual(JSON.parse(body));
  });

  it('takes a single event as the whole body, and an empty batch as no events', () => {
    expect(decode(eventTexts(Buffer.from('\n {"id": "é 🛒"} \n')))).toEqual([{ id: 'é 🛒' }]);
    expect(eventTexts(Buffer.from(' [ ] '))).toEqual([]);
  });

  it('agrees with JSON.parse on generated batches, compact and indented', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const value = values(seed);
      const batch = Array.from({ length: 1 + (seed % 7) }, () => value(0));
      for (const body of [JSON.stringify(batch), JSON.stringify(batch, null, seed % 4)]) {
        expect(decode(eventTexts(Buffer.from(body)))).toEqual(batch);
      }
    }
  });
});
