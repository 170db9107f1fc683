// Lint, and the dependency rule of docs/decisions/0001: contracts <- domain <- apps, the web app
// imports only contracts, and the domain stays pure (no framework, no I/O, no clock, no randomness).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const io = ['@nestjs/*', 'pg', 'pg-*', 'typeorm', '@nats-io/*', 'socket.io', 'socket.io-client', 'express', 'node:*', 'fs', 'net', 'http', 'child_process'];
const apps = ['@pulse/api', '@pulse/projector', '@pulse/web', '**/apps/**'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'apps/web/.angular/**', '.pulse/**', 'bench/results/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['libs/contracts/src/**/*.ts'],
    ignores: ['libs/contracts/src/sdk/**', 'libs/contracts/src/asyncapi/write.ts', 'libs/contracts/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@pulse/domain', ...apps], message: 'contracts depend on nothing of Pulse: contracts <- domain <- apps' },
        { group: io, message: 'the browser-safe contracts stay free of Node and I/O; put Node code in src/sdk' },
      ] }],
    },
  },
  {
    files: ['libs/domain/src/**/*.ts'],
    ignores: ['libs/domain/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: apps, message: 'the domain never imports an app: contracts <- domain <- apps' },
        { group: [...io, '@pulse/contracts/sdk'], message: 'the domain is pure: no framework, no I/O (apps are the adapters)' },
      ] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'no clock in the domain: time comes in as an argument (replay must be deterministic)' },
        { object: 'Math', property: 'random', message: 'no randomness in the domain: ids and choices come in as arguments' },
        { object: 'crypto', property: 'randomUUID', message: 'no random ids in the domain' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'no clock in the domain: pass the time in' }],
    },
  },
  {
    files: ['apps/web/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@pulse/domain', '@pulse/contracts/sdk', '@pulse/api', '@pulse/projector', '**/libs/**', '**/apps/api/**', '**/apps/projector/**'], message: 'the console imports only @pulse/contracts; everything else comes over HTTP' },
      ] }],
    },
  },
  {
    files: ['apps/simulator/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@pulse/domain', '@pulse/api', '@pulse/projector', '@pulse/web', '**/apps/api/**', '**/apps/projector/**', '**/libs/domain/**'], message: 'the simulator is a producer: it knows only the contracts' }] }] },
  },
  {
    files: ['apps/api/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@pulse/projector', '@pulse/web', '**/apps/projector/**', '**/apps/web/**'], message: 'apps do not import each other; share through libs' }] }] },
  },
  {
    files: ['apps/projector/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@pulse/api', '@pulse/web', '**/apps/api/**', '**/apps/web/**'], message: 'apps do not import each other; share through libs' }] }] },
  },
);
