// Integration and end-to-end tests: real Kafka and Postgres, started (or reused) by the global setup.
process.env.TZ = 'UTC';
const preset = require('./jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.integration-spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  testTimeout: 300_000,
  maxWorkers: 1,
};
