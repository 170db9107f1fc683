import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { Request } from 'express';
import { Requires } from '../auth/access.js';
import type { Role } from '../config.js';
import { Problem } from './problem.js';

/** A JSON Schema for an object of request parameters (query string or body). */
export interface ObjectSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface EndpointSpec {
  tag: string;
  summary: string;
  role: Role | 'any' | 'public';
  query?: ObjectSchema;
  body?: ObjectSchema;
  /** JSON Schema of the success response; documented, and checked against the running app by a test. */
  response: Record<string, unknown>;
  status?: number;
  errors?: number[];
}

const ENDPOINT = 'pulse:endpoint';

const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;
// coerceTypes: query strings are strings; 'array' turns a single ?filter=x into ['x'] like a repeated one.
const ajv = new Ajv({ allErrors: true, coerceTypes: 'array', useDefaults: true, strict: false });
addFormats(ajv, ['date-time', 'date']);
const compiled = new WeakMap<object, ValidateFunction>();

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' } },
};

function describe(errors: ErrorObject[], where: string): string[] {
  return errors.map((e) => {
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return `${where} parameter "${String(p.additionalProperty)}" is not known`;
    if (e.keyword === 'required') return `${where} parameter "${String(p.missingProperty)}" is required`;
    const name = e.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
    if (e.keyword === 'enum') return `${where} parameter "${name}" must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
    return `${where} parameter "${name}" ${e.message}`;
  });
}

/** The one place request input is validated: against the endpoint's own documented schema. */
export function validateInput<T>(schema: ObjectSchema, input: unknown, where: 'query' | 'body'): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile({ additionalProperties: false, ...schema });
    compiled.set(schema, validate);
  }
  const copy = structuredClone(input ?? {});
  if (!validate(copy)) {
    const problems = describe(validate.errors ?? [], where);
    throw new Problem(400, 'invalid_request', problems.join('; '), { errors: problems });
  }
  return copy as T;
}

/** Declares a route once: role, documentation and validation all come from this spec. */
export function Endpoint(spec: EndpointSpec) {
  const decorators: MethodDecorator[] = [
    ApiTags(spec.tag),
    ApiOperation({ summary: spec.summary }),
    Requires(spec.role),
    ApiResponse({ status: spec.status ?? 200, description: 'Success', schema: spec.response }),
    ApiResponse({ status: 400, description: 'Invalid request: the detail says which parameter and why', schema: problemSchema }),
    (_target: object, _key: string | symbol, descriptor: PropertyDescriptor) => {
      Reflect.defineMetadata(ENDPOINT, spec, descriptor.value as object);
    },
  ];
  if (spec.role !== 'public') {
    decorators.push(ApiBearerAuth(), ApiResponse({ status: 401, description: 'Missing or unknown token', schema: problemSchema }));
    if (spec.role !== 'any') decorators.push(ApiResponse({ status: 403, description: `Token without the ${spec.role} role`, schema: problemSchema }));
  }
  for (const code of spec.errors ?? []) decorators.push(ApiResponse({ status: code, description: 'See the problem detail', schema: problemSchema }));
  for (const [name, schema] of Object.entries(spec.query?.properties ?? {})) {
    decorators.push(ApiQuery({ name, required: spec.query?.required?.includes(name) ?? false, schema, description: schema.description as string | undefined }));
  }
  if (spec.body) decorators.push(ApiBody({ schema: spec.body }));
  return applyDecorators(...decorators);
}

/** The request's validated query (GET) or body (other methods), typed by the handler. */
export const Input = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const spec = Reflect.getMetadata(ENDPOINT, ctx.getHandler()) as EndpointSpec | undefined;
  const req = ctx.switchToHttp().getRequest<Request>();
  if (spec?.body) return validateInput(spec.body, req.body, 'body');
  if (spec?.query) return validateInput(spec.query, req.query, 'query');
  return {};
});
