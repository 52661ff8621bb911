/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of admin-api. */
module.exports = {
  displayName: 'admin-api',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
