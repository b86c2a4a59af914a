// One jest config for the monorepo. Unit tests (*.test.ts) need nothing running; integration and component
// tests (*.int.test.ts) use the real Kafka and MongoDB-protocol server that test/global-setup.ts provides, and so does
// the fault suite (*.faults.test.ts, `npm run test:faults`), which also stops and starts them.
/** @type {import('jest').Config} */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
const moduleNameMapper = {
  '^@o2o/contracts/(.*)$': '<rootDir>/services/contracts/src/$1',
  '^@o2o/kit-([a-z]+)$': '<rootDir>/services/kit/$1/src/index.ts',
  // Cross-service tests start other services in-process from their sources (e.g. inventory with the real catalogue).
  '^@o2o/(catalogue|inventory|payments|orders|delivery|gateway|system)/(.*)$': '<rootDir>/services/$1/src/$2',
};
const common = {
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
module.exports = {
  // Integration tests wait on real brokers and databases; unit tests finish long before this.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/services/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$', '\\.faults\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/services/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/services/**/*.faults.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
