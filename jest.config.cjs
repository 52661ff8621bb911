/**
 * Every test of the workspace in one run: unit (*.spec.ts), integration
 * (*.integration-spec.ts) and end-to-end (*.e2e-spec.ts, apps/system-e2e).
 * `npm test` runs this after starting the services and building the apps.
 */
module.exports = {
  projects: ['<rootDir>/libs/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs', '<rootDir>/tools/*/jest.config.cjs'],
};
