import autocannon from 'autocannon';
import type { BenchDialect } from '../cli/bench-arguments';
import { alternate, type Sample } from '../harness/alternate';
import { AppProcess, createApiKey, freePort } from '../harness/app-process';
import { startCannedJsonServer } from '../limits/canned-json-server';
import type { WorkloadContext } from './workload-context';

/**
 * The Admin API's read routes: health, metrics and the license, and the REST
 * resources where the build has them (a route the build answers with 404 is
 * recorded as not run).
 */
const ROUTES = ['/health/ready', '/metrics', '/api/license', '/api/connectors', '/api/runs'];

async function load(url: string, seconds: number, connections: number, headers: Record<string, string>): Promise<Sample> {
  const result = await autocannon({ url, connections, duration: seconds, headers });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors (${result.timeouts} timeouts) and ${result.non2xx} answers other than 2xx under load (${JSON.stringify(result.statusCodeStats)})`);
  }
  return { seconds: result.duration, objects: result.requests.total, latencyMs: { p50: result.latency.p50, p99: result.latency.p99 } };
}

/**
 * W6: the built Admin API's read routes under load (autocannon, a fixed
 * number of connections for a fixed time), idle otherwise. Its limit: a
 * canned JSON body of the same size from a bare express server.
 */
export async function runW6AdminReads(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const { seconds, connections, runs } = ctx.profile.adminReads;
  const factory = ctx.databases(dialect);
  const database = await factory.create('w6');
  const port = await freePort();
  const env = ctx.environment.appEnv(database, port);
  // A reader key made as an operator makes one; a build without authentication has none.
  const key = await createApiKey(ctx.root, env, 'bench reader', 'reader');
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const admin = await AppProcess.start(ctx.root, 'admin-api', env, port, { logFile: ctx.environment.logFile('admin-api') });
  try {
    for (const route of ROUTES) {
      const url = `${admin.url}${route}`;
      const probe = await fetch(url, { headers });
      const body = await probe.text();
      if (probe.status !== 200) {
        ctx.results.add({ workload: 'W6', case: `GET ${route}`, dialect, role: 'not-run', run: 0, warmup: false, method: `the built Admin API answers ${probe.status} (${key ? 'with' : 'without'} a reader API key)` });
        continue;
      }
      const canned = await startCannedJsonServer(body);
      const parameters = { connections, seconds, bytes: Buffer.byteLength(body) };
      try {
        await alternate({
          warmups: ctx.profile.warmups,
          runs: ctx.args.runs ? Math.min(ctx.args.runs, runs) : runs,
          engine: async () => {
            admin.resetPeakRss();
            const sample = await load(url, seconds, connections, headers);
            return { ...sample, peakRssBytes: admin.peakRssBytes() };
          },
          limit: () => load(canned.url, seconds, connections, headers),
          onSample: (role, run, sample) => {
            ctx.record(
              {
                workload: 'W6',
                case: `GET ${route}`,
                dialect,
                role,
                run,
                parameters,
                rateUnit: 'req/s',
                method: role === 'limit' ? `express: a canned body of the same ${parameters.bytes} bytes, same connections` : `built Admin API${key ? ' with a reader API key' : ''}, autocannon ${connections} connections × ${seconds} s`,
              },
              sample,
            );
          },
        });
      } catch (error) {
        // One route refusing the load (a rate limit, an error under load) leaves the others to measure.
        ctx.results.add({ workload: 'W6', case: `GET ${route}`, dialect, role: 'not-run', run: 0, warmup: false, method: `failed under load: ${(error as Error).message}` });
        ctx.log(`W6 GET ${route} on ${dialect} failed under load: ${(error as Error).message}`);
      } finally {
        await canned.close();
      }
    }
  } finally {
    await admin.stop();
    await factory.drop(database);
  }
}
