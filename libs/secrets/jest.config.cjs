/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of secrets. */
module.exports = {
  displayName: 'secrets',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
