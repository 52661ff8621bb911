/** End-to-end tests: the built apps (dist/apps/*) started as processes. Run `nx run-many -t build` first. */
module.exports = {
  displayName: 'system-e2e',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 120_000,
};
