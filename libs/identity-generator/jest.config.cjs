/** Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of identity-generator. faker's ES modules are compiled by the preset. */
module.exports = {
  displayName: 'identity-generator',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
};
