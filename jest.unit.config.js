// Unit and property tests: pure logic, no servers.
process.env.TZ = 'UTC';
const preset = require('./jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'],
};
