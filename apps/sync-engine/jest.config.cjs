/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of sync-engine. */
module.exports = {
  displayName: 'sync-engine',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
