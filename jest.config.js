// Jest 30 runs these ESM TypeScript sources through SWC (with decorator metadata for Nest).
// Node needs --experimental-vm-modules; scripts/test.mjs sets it.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@pulse/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^@pulse/contracts/sdk$': '<rootDir>/libs/contracts/src/sdk/index.ts',
    '^@pulse/contracts/testing$': '<rootDir>/libs/contracts/src/testing/builders.ts',
    '^@pulse/domain$': '<rootDir>/libs/domain/src/index.ts',
    '^@pulse/simulator$': '<rootDir>/apps/simulator/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  roots: ['<rootDir>/libs', '<rootDir>/apps/api', '<rootDir>/apps/projector', '<rootDir>/apps/simulator', '<rootDir>/apps/web/e2e', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
};
