/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of connector-sdk. */
module.exports = {
  displayName: 'connector-sdk',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
