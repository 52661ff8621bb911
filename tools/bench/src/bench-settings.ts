import { resolve } from 'node:path';

/**
 * Where the services the benchmark measures against are, from the same
 * variables the integration tests and `tools/dev-services/services.sh` use.
 * The only place the benchmark reads the environment.
 */
export interface BenchSettings {
  /** The workspace root: the built apps are under `dist/apps` there. */
  root: string;
  /** An admin connection to PostgreSQL that may create and drop databases. */
  pgAdminUrl: string;
  ldap: { url: string; port: number; suffix: string; adminDn: string; adminPassword: string };
  /** For the result records: where the numbers came from. */
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string };
}

export function loadBenchSettings(env: NodeJS.ProcessEnv, builtMainDir: string, machine: BenchSettings['machine']): BenchSettings {
  const ldapPort = Number(env['IM_TEST_LDAP_PORT'] ?? 3890);
  const suffix = env['IM_TEST_LDAP_SUFFIX'] ?? 'dc=identitymesh,dc=test';
  return {
    // dist/tools/bench/main.js → the workspace root.
    root: env['IM_BENCH_ROOT'] ?? resolve(builtMainDir, '../../..'),
    pgAdminUrl: env['IM_BENCH_PG_URL'] ?? env['IM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    ldap: { url: `ldap://127.0.0.1:${ldapPort}`, port: ldapPort, suffix, adminDn: `cn=admin,${suffix}`, adminPassword: env['IM_TEST_LDAP_ADMIN_PASSWORD'] ?? 'admin' },
    machine,
  };
}
