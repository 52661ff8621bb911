/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of the license tool; the integration specs run the built CLI. */
module.exports = {
  displayName: 'license-tool',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
