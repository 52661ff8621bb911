import nx from '@nx/eslint-plugin';

/** Packages that tie code to a framework, a driver or the network. */
const FRAMEWORK_AND_DRIVERS = [
  '@nestjs/*',
  'typeorm',
  'pg',
  'mysql2',
  'mssql',
  'tedious',
  'better-sqlite3',
  'ioredis',
  'socket.io',
  'socket.io-client',
  '@socket.io/*',
  'express',
  'pino',
  'prom-client',
];

/**
 * The dependency rules between projects. Test files may also use the testing
 * lib (throwaway databases, process helpers); production code may not.
 */
function depConstraints(forTests) {
  const testing = forTests ? ['type:testing'] : [];
  return [
    // Layers: apps use libs; libs never use apps; the domain uses nothing.
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:infra', 'type:sdk', 'type:util', ...testing],
    },
    {
      sourceTag: 'type:data-access',
      onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:util', ...testing],
    },
    { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
    {
      sourceTag: 'type:sdk',
      onlyDependOnLibsWithTags: ['type:domain', 'type:util'],
      bannedExternalImports: FRAMEWORK_AND_DRIVERS.filter((p) => !['pg', 'mysql2', 'mssql', 'tedious', 'better-sqlite3'].includes(p)),
    },
    {
      sourceTag: 'type:domain',
      onlyDependOnLibsWithTags: ['type:domain'],
      bannedExternalImports: FRAMEWORK_AND_DRIVERS,
    },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:testing'] },
    // Test kits exercise the connector contract (the connector conformance kit).
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:sdk'] },
    // Scopes: shared libs serve every app; an app's own libs serve only it.
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:admin-api', onlyDependOnLibsWithTags: ['scope:shared', 'scope:admin-api'] },
    { sourceTag: 'scope:sync-engine', onlyDependOnLibsWithTags: ['scope:shared', 'scope:sync-engine'] },
    // Operator tools (secretscli, license) compose the shared libs; nothing depends on them.
    { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:shared', 'scope:tools'] },
    // A relay agent runs on remote hosts and never touches the database.
    {
      sourceTag: 'scope:relay-agent',
      onlyDependOnLibsWithTags: ['scope:shared', 'scope:relay-agent'],
      notDependOnLibsWithTags: ['type:data-access'],
      bannedExternalImports: ['typeorm', 'pg', 'mysql2', 'mssql', 'tedious', 'better-sqlite3'],
    },
  ];
}

const TEST_FILES = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', '**/support/**/*.ts'];

function boundaries(files, ignores, forTests) {
  return {
    files,
    ignores,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: true, banTransitiveDependencies: true, allow: [], depConstraints: depConstraints(forTests) },
      ],
    },
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/data', '**/coverage'] },
  boundaries(['**/*.ts'], TEST_FILES, false),
  boundaries(TEST_FILES, [], true),
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // The domain is pure: Node's I/O modules are built-ins, which the boundary rule does not see.
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|cluster)$',
              message: 'libs/domain is pure TypeScript: no I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/webpack.config.js', 'jest.preset.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
