import pg from 'pg';
import { DATABASE_URL } from '../../../test/support/services.js';
import { pgArray } from './pg-array.js';

describe('pgArray, read back by PostgreSQL', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
  });
  afterAll(() => client.end());

  it('keeps every string as it was: JSON with quotes, backslashes, commas, braces, the word NULL, empty ones, and real nulls', async () => {
    const values = ['a', '{"sku":"X-1","q":"say \\"hi\\""}', 'back\\slash', 'NULL', '', null, 'with, comma {brace}', 'ünïcödé'];
    const { rows } = await client.query<{ a: Array<string | null> }>('SELECT $1::text[] AS a', [pgArray(values)]);
    expect(rows[0].a).toEqual(values);
  });

  it('keeps every number, negative and past 2^31 too', async () => {
    const values = [0, 1, -2, 1_764_331_200_000, 2 ** 53 - 1];
    const { rows } = await client.query<{ a: string[] }>('SELECT $1::bigint[] AS a', [pgArray(values)]);
    expect(rows[0].a.map(Number)).toEqual(values);
  });
});
