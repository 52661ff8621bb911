const preset = require('../../jest.preset.js');

/**
 * Unit (*.spec.ts) and integration (*.integration-spec.ts) tests of admin-api.
 * jose (OIDC token checks) ships as ES modules only, like the packages the
 * preset already compiles to CommonJS for jest; it is added to that list here.
 */
const esmOnly = '@marcbachmann/cel-js|@faker-js/faker|jose';
module.exports = {
  displayName: 'admin-api',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
  transform: {
    '^.+\\.ts$': preset.transform['^.+\\.ts$'],
    [`/node_modules/(${esmOnly})/.+\\.js$`]: preset.transform['/node_modules/(@marcbachmann/cel-js|@faker-js/faker)/.+\\.js$'],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly})/)`],
};
