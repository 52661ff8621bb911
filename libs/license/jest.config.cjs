/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of license. */
module.exports = {
  displayName: 'license',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
