/** The kit's own tests (*.spec.ts) and the built-in connectors run against their real systems (*.integration-spec.ts). */
module.exports = {
  displayName: 'connector-conformance',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
