/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of key-ring. */
module.exports = {
  displayName: 'key-ring',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
