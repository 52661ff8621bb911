/** Unit tests (*.spec.ts) of the benchmark's arithmetic, arguments and report; the benchmark itself runs with `npm run bench`. */
module.exports = {
  displayName: 'bench',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
