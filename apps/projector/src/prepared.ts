import { hash } from 'node:crypto';
import type pg from 'pg';

/**
 * Runs a statement the batch path sends again and again as a named prepared statement, so each
 * connection parses and plans it once rather than on every batch. The name is a digest of the text:
 * the same text always gets the same name, and different texts (another schema, another shape of
 * batch) never share one.
 */
export function prepared<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.ClientBase, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  return client.query<R>({ name: `pulse_${hash('sha1', text, 'base64url')}`, text, values });
}
