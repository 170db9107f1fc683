// Browser-safe half of the contracts: schemas, types, validators, names. The producer SDK is `@pulse/contracts/sdk`.
export * from './batch.js';
export * from './catalog.js';
export * from './compatibility.js';
export * from './envelope.js';
export * from './published.js';
export * from './subjects.js';
export type * from './types.js';
export * from './validation.js';
export { generateAsyncApi, renderAsyncApi } from './asyncapi/generate.js';
