const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Type checking is the typecheck target's job; tests transpile per file for speed.
  // The expression library (cel-js) and faker ship as ES modules only. Node
  // 20.19+ requires them natively, but jest's module loader can't before Node
  // 24.9, so tests compile them to CommonJS.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
    '/node_modules/(@marcbachmann/cel-js|@faker-js/faker)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022', esModuleInterop: true }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@marcbachmann/cel-js|@faker-js/faker)/)'],
};
