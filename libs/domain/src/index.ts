// Pulse's domain: pure folds from events to read-model changes, the metric catalogue and the
// lateness rules. No framework, no I/O, no clock, no randomness (eslint enforces it).
export * from './metrics.js';
export * from './project-batch.js';
export * from './projection.js';
export { normaliseQuery, projections } from './projections/index.js';
export * from './time.js';
export * from './watermark.js';
export * from './rebuild-plan.js';
export * from './operation-record.js';
