/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of relay-agent. */
module.exports = {
  displayName: 'relay-agent',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
