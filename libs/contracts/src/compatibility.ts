import { eventCatalog, type EventType } from './catalog.js';

/**
 * Backward compatibility between JSON Schema versions, after Confluent Schema Registry's
 * BACKWARD_TRANSITIVE: a newer version must accept every document that any older version accepted,
 * so a consumer written against the newest version reads the whole history of the stream.
 *
 * The check is structural over the keywords Pulse's schemas use, and conservative: a change it cannot
 * prove safe (a different regex, an unknown keyword) is reported as incompatible.
 */
export interface Incompatibility {
  path: string;
  problem: string;
}

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$id', '$schema', 'title', 'description', 'examples', 'default', '$comment']);
const HANDLED = new Set([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'patternProperties', 'items',
  'minItems', 'maxItems', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format', 'not',
]);

function types(schema: Schema): Set<string> | undefined {
  const t = schema.type;
  if (t === undefined) return undefined;
  return new Set(Array.isArray(t) ? (t as string[]) : [t as string]);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function allowedValues(schema: Schema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

export function checkBackwardCompatible(older: Schema, newer: Schema, path = ''): Incompatibility[] {
  const found: Incompatibility[] = [];
  const at = path || '(root)';
  const report = (problem: string) => found.push({ path: at, problem });

  for (const keyword of new Set([...Object.keys(older), ...Object.keys(newer)])) {
    if (!ANNOTATIONS.has(keyword) && !HANDLED.has(keyword) && !same(older[keyword], newer[keyword])) {
      report(`keyword "${keyword}" changed and cannot be verified`);
    }
  }

  const oldTypes = types(older);
  const newTypes = types(newer);
  if (newTypes) {
    if (!oldTypes) report(`type restricted to ${[...newTypes].join('|')}`);
    else
      for (const t of oldTypes) {
        if (!newTypes.has(t) && !(t === 'integer' && newTypes.has('number'))) report(`type "${t}" no longer accepted`);
      }
  }

  const oldValues = allowedValues(older);
  const newValues = allowedValues(newer);
  if (newValues) {
    if (!oldValues) report('values restricted to a fixed list');
    else for (const v of oldValues) if (!newValues.some((n) => same(n, v))) report(`value ${JSON.stringify(v)} no longer accepted`);
  }

  const lowerBounds = ['minimum', 'minLength', 'minItems'] as const;
  const upperBounds = ['maximum', 'maxLength', 'maxItems'] as const;
  for (const k of lowerBounds) {
    const n = newer[k] as number | undefined;
    const o = older[k] as number | undefined;
    if (n !== undefined && (o === undefined || n > o)) report(`${k} raised from ${o ?? 'none'} to ${n}`);
  }
  for (const k of upperBounds) {
    const n = newer[k] as number | undefined;
    const o = older[k] as number | undefined;
    if (n !== undefined && (o === undefined || n < o)) report(`${k} lowered from ${o ?? 'none'} to ${n}`);
  }
  for (const k of ['pattern', 'format', 'not'] as const) {
    if (newer[k] !== undefined && !same(older[k], newer[k])) report(`${k} changed from ${JSON.stringify(older[k])} to ${JSON.stringify(newer[k])}`);
  }

  const oldRequired = new Set((older.required as string[] | undefined) ?? []);
  for (const name of (newer.required as string[] | undefined) ?? []) {
    if (!oldRequired.has(name)) report(`field "${name}" became required`);
  }

  const oldProps = (older.properties ?? {}) as Record<string, Schema>;
  const newProps = (newer.properties ?? {}) as Record<string, Schema>;
  const oldClosed = older.additionalProperties === false;
  const newClosed = newer.additionalProperties === false;
  if (newClosed && !oldClosed) report('additional fields no longer accepted');
  if (!same(older.patternProperties, newer.patternProperties)) report('patternProperties changed');
  for (const [name, oldProp] of Object.entries(oldProps)) {
    const child = path ? `${path}.${name}` : name;
    const newProp = newProps[name];
    if (newProp) found.push(...checkBackwardCompatible(oldProp, newProp, child));
    else if (newClosed) found.push({ path: child, problem: 'field removed, but old documents still carry it' });
  }
  for (const name of Object.keys(newProps)) {
    // A new field is safe only when old documents could not have carried it with another meaning.
    if (!(name in oldProps) && !oldClosed) found.push({ path: path ? `${path}.${name}` : name, problem: 'field added where old documents could hold any value' });
  }

  if (older.items !== undefined || newer.items !== undefined) {
    if (newer.items === undefined) {
      // no constraint on items: accepts everything
    } else if (older.items === undefined) report('array items restricted');
    else found.push(...checkBackwardCompatible(older.items as Schema, newer.items as Schema, `${path}[]`));
  }
  return found;
}

export interface CatalogIncompatibility extends Incompatibility {
  type: EventType;
  olderVersion: number;
  newerVersion: number;
}

/** BACKWARD_TRANSITIVE over the catalogue: every version against every earlier version of its type. */
export function checkCatalog(catalog: Record<string, { versions: readonly object[] }> = eventCatalog): CatalogIncompatibility[] {
  const found: CatalogIncompatibility[] = [];
  for (const [type, def] of Object.entries(catalog)) {
    def.versions.forEach((newer, j) => {
      for (let i = 0; i < j; i++) {
        for (const issue of checkBackwardCompatible(def.versions[i] as Schema, newer as Schema)) {
          found.push({ ...issue, type: type as EventType, olderVersion: i + 1, newerVersion: j + 1 });
        }
      }
    });
  }
  return found;
}
