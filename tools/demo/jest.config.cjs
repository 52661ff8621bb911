/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of the demo tool; the integration specs use a throwaway SQLite database. */
module.exports = {
  displayName: 'demo',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
