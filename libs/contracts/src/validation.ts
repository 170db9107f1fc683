import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { eventCatalog, eventTypes, isEventType, type EventType } from './catalog.js';
import { dateTimeFormat } from './date-time.js';
import { envelopeSchema } from './envelope.js';
import type { PulseEvent } from './types.js';

/** One thing wrong with one event, in words a producer team can act on. */
export interface FieldError {
  /** JSON pointer into the event, e.g. `/data/items/0/quantity`. */
  pointer: string;
  /** The same place as a readable path, e.g. `data.items[0].quantity`. */
  field: string;
  message: string;
}

export type RejectionCode = 'malformed_json' | 'not_an_object' | 'invalid_envelope' | 'unknown_type' | 'unknown_version' | 'invalid_data';

export interface Rejection {
  code: RejectionCode;
  /** One sentence: what is wrong and how to fix it. */
  reason: string;
  errors: FieldError[];
}

export type ValidationResult = { ok: true; event: PulseEvent } | { ok: false; rejection: Rejection };

const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

function compileAll() {
  // allErrors: a producer team fixing a payload wants every problem at once, not one per round trip.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv, ['uri', 'uuid']);
  ajv.addFormat('date-time', dateTimeFormat);
  const envelope = ajv.compile(envelopeSchema);
  const data = new Map<string, ValidateFunction>();
  for (const type of eventTypes) {
    eventCatalog[type].versions.forEach((schema, i) => data.set(`${type}@${i + 1}`, ajv.compile(schema)));
  }
  return { envelope, data };
}

let compiled: ReturnType<typeof compileAll> | undefined;
function validators() {
  compiled ??= compileAll();
  return compiled;
}

function pointerToField(pointer: string): string {
  if (pointer === '') return '(event)';
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, token) => (/^\d+$/.test(token) ? `${path}[${token}]` : path ? `${path}.${token}` : token), '');
}

function describe(error: ErrorObject, prefix: string): FieldError {
  let pointer = prefix + error.instancePath;
  let message = error.message ?? 'is invalid';
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      pointer += `/${String(p.missingProperty)}`;
      message = 'is required';
      break;
    case 'additionalProperties':
      pointer += `/${String(p.additionalProperty)}`;
      message = 'is not a field of this schema (check the spelling, or the dataversion)';
      break;
    case 'enum':
      message = `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'not':
      message = 'has a value that is not allowed here';
      break;
  }
  return { pointer, field: pointerToField(pointer), message };
}

function reject(code: RejectionCode, reason: string, errors: FieldError[] = []): ValidationResult {
  return { ok: false, rejection: { code, reason, errors } };
}

function summarise(errors: FieldError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.field} ${e.message}`);
  return shown.join('; ') + (errors.length > 3 ? `; and ${errors.length - 3} more` : '');
}

/**
 * Validates one parsed value as a Pulse event: the envelope first, then `data` against the schema
 * of exactly the `type` and `dataversion` it declares.
 */
export function validateEvent(value: unknown): ValidationResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_an_object', 'an event must be a JSON object (a CloudEvent)');
  }
  const v = validators();
  const candidate = value as Record<string, unknown>;
  if (!v.envelope(candidate)) {
    const errors = (v.envelope.errors ?? []).map((e) => describe(e, ''));
    const typeError = errors.find((e) => e.field === 'type' && e.message.startsWith('must be one of'));
    if (typeError && typeof candidate.type === 'string') {
      return reject('unknown_type', `type "${candidate.type}" is not a Pulse event type; known types: ${eventTypes.join(', ')}`, [
        { ...typeError, message: 'is not a known event type' },
      ]);
    }
    return reject('invalid_envelope', `the CloudEvents envelope is invalid: ${summarise(errors)}`, errors);
  }
  const type = candidate.type as EventType;
  const version = candidate.dataversion as number;
  const validateData = v.data.get(`${type}@${version}`);
  if (!validateData) {
    const known = eventCatalog[type].versions.map((_, i) => i + 1).join(', ');
    return reject('unknown_version', `dataversion ${version} of ${type} is not known; known versions: ${known}`, [
      { pointer: '/dataversion', field: 'dataversion', message: `must be one of: ${known}` },
    ]);
  }
  if (!validateData(candidate.data)) {
    const errors = (validateData.errors ?? []).map((e) => describe(e, '/data'));
    return reject('invalid_data', `data does not match ${type} v${version}: ${summarise(errors)}`, errors);
  }
  return { ok: true, event: candidate as unknown as PulseEvent };
}

/** Validates `data` of a type against one schema version: used to check old samples against the newest version. */
export function validateData(type: EventType, version: number, data: unknown): FieldError[] {
  const validate = validators().data.get(`${type}@${version}`);
  if (!validate) throw new Error(`no schema for ${type} v${version}`);
  return validate(data) ? [] : (validate.errors ?? []).map((e) => describe(e, '/data'));
}

export { isEventType };
