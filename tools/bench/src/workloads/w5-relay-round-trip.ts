import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { HUB_MAX_MESSAGE_BYTES } from '@identitymesh/connector-sdk';
import type { BenchDialect } from '../cli/bench-arguments';
import { alternate, type Sample } from '../harness/alternate';
import { AppProcess, createApiKey, freePort } from '../harness/app-process';
import { STATEMENTS_METRIC } from '../harness/engine-session';
import { closedLoopStatistics, runClosedLoop, type ClosedLoopOptions, type ClosedLoopResult } from '../harness/closed-loop';
import { connectEchoClient, ECHO_EVENT, startSocketEchoServer } from '../limits/socket-echo';
import { round, type WorkloadContext } from './workload-context';

const RELAY_GROUP = 'bench-branch';
const RELAY_NAME = 'bench-relay';
/** Work items the relay runs at once: IM_RELAY_MAX_CONCURRENT_ITEMS, set to its default so the records say what it was. */
const RELAY_MAX_ITEMS = 4;
/** How long one operation may take before it counts as failed: the Admin API's own wait for a relay's connection test. */
const OPERATION_TIMEOUT_MS = 35_000;

type Json = Record<string, unknown>;

/** The built Admin API's REST calls, as an admin API key. */
class AdminApi {
  readonly headers: Record<string, string>;

  constructor(
    readonly url: string,
    key: string,
  ) {
    this.headers = { authorization: `Bearer ${key}` };
  }

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string; json: Json }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...this.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
    });
    const text = await response.text();
    let json: Json = {};
    try {
      json = text ? (JSON.parse(text) as Json) : {};
    } catch {
      // Not JSON (an HTML error page): `text` says what came back.
    }
    return { status: response.status, text, json };
  }

  async expect(status: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ text: string; json: Json }> {
    const answer = await this.call(method, path, body);
    if (answer.status !== status) throw new Error(`${method} ${path} answered ${answer.status}, not ${status}: ${answer.text.slice(0, 500)}`);
    return answer;
  }
}

/** The relay connector's file: a small HR extract, on the relay's host. */
function writeHrFile(dir: string): Json {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'people.csv');
  const rows = Array.from({ length: 20 }, (_, i) => `E${1000 + i},Given${i},Family${i}`);
  writeFileSync(path, `Employee ID,First Name,Last Name\n${rows.join('\n')}\n`);
  return {
    path,
    anchorColumn: 'Employee ID',
    columns: [
      { column: 'Employee ID', attribute: 'employeeId' },
      { column: 'First Name', attribute: 'givenName' },
      { column: 'Last Name', attribute: 'sn', required: true },
    ],
  };
}

/**
 * Each run holds at least this many answers per operation in flight after its ramp: with 256 connection tests
 * outstanding, a fixed 1.5 s would hold hardly more than the ramp itself.
 */
const MEASURED_GENERATIONS = 2;

/** One closed-loop load as a Sample; a run with any failure is not a measurement and throws. */
async function load<T>(label: string, options: ClosedLoopOptions<T>): Promise<{ sample: Sample; result: ClosedLoopResult<T> }> {
  const result = await runClosedLoop({ minOps: MEASURED_GENERATIONS * options.inFlight, ...options });
  const stats = closedLoopStatistics(result);
  if (stats.failures > 0) throw new Error(`${label}: ${stats.failures} of ${result.completions.length} operations failed at ${options.inFlight} in flight (first: ${stats.firstError})`);
  if (stats.ops === 0) throw new Error(`${label}: no operation was answered after the first ${options.inFlight} within ${round((result.window.endMs - result.window.startMs) / 1000, 1)} s`);
  return {
    sample: {
      seconds: stats.seconds,
      objects: stats.ops,
      latencyMs: { p50: round(stats.latencyMs.p50, 2), p99: round(stats.latencyMs.p99, 2) },
      detail: { maxLatencyMs: round(stats.latencyMs.max, 2), rampSeconds: round(stats.rampSeconds, 3), drainSeconds: round((result.drainedMs - result.window.endMs) / 1000, 3), answered: result.completions.length },
    },
    result,
  };
}

/** The p50/p99 of a number each steady-state answer carries (the hub's roundTripMs, the test's durationMs). */
function innerLatency<T>(result: ClosedLoopResult<T>, of: (value: T) => number): { p50: number; p99: number } {
  const { latencyMs } = closedLoopStatistics(result, (c) => of(c.value as T));
  return { p50: round(latencyMs.p50, 2), p99: round(latencyMs.p99, 2) };
}

const MIB = 1024 * 1024;

/**
 * The Admin API's SQL statements (its identitymesh_db_statements_total) over every operation of a load, ramp and
 * drain included (all of them ran): a count that does not depend on the machine. It includes the hub's own
 * periodic work that fell into the load and the statements of one /metrics scrape.
 */
function statementsPerOperation<T>(statements: number, result: ClosedLoopResult<T>): { adminStatements: number; adminStatementsPerOperation: number } {
  return { adminStatements: statements, adminStatementsPerOperation: round(statements / Math.max(1, result.completions.length), 2) };
}

/**
 * W5: relay round trips through the built Admin API (the hub) and one built
 * relay agent enrolled in a group, with a csv connector of that group; each
 * round trip with 1, 16 and 256 operations outstanding (closed loop):
 *
 * - the connection test (`POST /api/connectors/{id}/test`): an item of the
 *   SQL relay work queue, announced by the hub, pulled by the relay, the csv
 *   connector's testConnection on the relay, the result back to the hub and
 *   the answer: hub → relay → connector → back, as an operator sees it;
 * - the command (`POST /api/relays/{id}/commands` `{ kind: 'ping' }`): one
 *   acknowledged socket.io message to the relay and back, timed by the
 *   caller and by the hub (`roundTripMs` of the answer).
 *
 * The limit: a socket.io server in a process of its own acknowledging each
 * message with itself (a payload the size of the relay's work order), over
 * one websocket from this process, with as many messages outstanding. Beside
 * it, for what the REST call costs: a canned body of the test's answer's size
 * over HTTP from the same process (a reference, not the limit).
 */
export async function runW5RelayRoundTrip(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const { inFlight, seconds } = ctx.profile.relayRoundTrip;
  const durationMs = seconds * 1000;
  const factory = ctx.databases(dialect);
  const database = await factory.create('w5');
  const port = await freePort();
  const env = ctx.environment.appEnv(database, port);
  const key = await createApiKey(ctx.root, env, 'bench relay admin', 'admin');
  if (!key) throw new Error('create-api-key of the built Admin API made no admin key');
  const admin = await AppProcess.start(ctx.root, 'admin-api', env, port, { logFile: ctx.environment.logFile('admin-api') });
  let relay: AppProcess | undefined;
  let echo: Awaited<ReturnType<typeof startSocketEchoServer>> | undefined;
  let client: Socket | undefined;
  try {
    const api = new AdminApi(admin.url, key);
    const enrollment = await api.expect(201, 'POST', '/api/relays/enrollments', { relayGroup: RELAY_GROUP });
    const relayHost = join(ctx.workDir, `w5-relay-host-${dialect}`);
    const relayPort = await freePort();
    // As on a remote host: a data folder of its own (its credential and secrets), the hub's URL and the one-time token.
    relay = await AppProcess.start(
      ctx.root,
      'relay-agent',
      { IM_DATA_DIR: join(relayHost, 'data'), IM_RELAY_PORT: String(relayPort), IM_RELAY_NAME: RELAY_NAME, IM_HUB_URL: admin.url, IM_RELAY_ENROLLMENT_TOKEN: String(enrollment.json['token']), IM_RELAY_MAX_CONCURRENT_ITEMS: String(RELAY_MAX_ITEMS), IM_LOG_LEVEL: 'info' },
      relayPort,
      { logFile: ctx.environment.logFile('relay-agent') },
    );
    const relays = (await api.expect(200, 'GET', '/api/relays')).json['items'] as Json[];
    const relayId = String(relays.find((r) => r['name'] === RELAY_NAME && r['connected'] === true)?.['id'] ?? '');
    if (!relayId) throw new Error(`the relay is not listed as connected: ${JSON.stringify(relays)}`);
    const config = writeHrFile(join(relayHost, 'files'));
    const connector = await api.expect(201, 'POST', '/api/connectors', { name: 'HR file on the relay', type: 'csv', config, relayGroup: RELAY_GROUP });
    const connectorId = String(connector.json['id']);

    const testPath = `/api/connectors/${connectorId}/test`;
    const pingPath = `/api/relays/${relayId}/commands`;
    const testProbe = await api.expect(200, 'POST', testPath);
    if (testProbe.json['ok'] !== true) throw new Error(`the connection test through the relay failed: ${testProbe.text}`);
    const pingProbe = await api.expect(200, 'POST', pingPath, { kind: 'ping' });
    if (pingProbe.json['outcome'] !== 'ok') throw new Error(`the ping through the relay failed: ${pingProbe.text}`);

    // The echo's payload: a work:pull answer carrying this connector's test order, as the hub sends it to the relay.
    const order = { ok: true, items: [{ id: randomUUID(), kind: 'test-connection', attempt: 1, deadlineAt: new Date().toISOString(), connector: { id: connectorId, name: 'HR file on the relay', type: 'csv', config } }] };
    const payloadBytes = Buffer.byteLength(JSON.stringify(order));
    echo = await startSocketEchoServer(ctx.root, { cannedBody: testProbe.text, maxHttpBufferSize: HUB_MAX_MESSAGE_BYTES });
    client = await connectEchoClient(echo.url);
    const echoSocket = client;
    const cannedUrl = `${echo.url}/canned`;

    const testOperation = async () => {
      const answer = await api.call('POST', testPath);
      return { status: answer.status, ok: answer.json['ok'] === true, durationMs: Number(answer.json['durationMs']), detail: answer.status === 200 ? String(answer.json['detail']) : answer.text.slice(0, 300) };
    };
    const pingOperation = async () => {
      const answer = await api.call('POST', pingPath, { kind: 'ping' });
      return { status: answer.status, ok: answer.json['outcome'] === 'ok', roundTripMs: Number(answer.json['roundTripMs']), detail: answer.text.slice(0, 300) };
    };
    const cannedOperation = async () => {
      const response = await fetch(cannedUrl, { method: 'POST', headers: api.headers, signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) });
      return { status: response.status, bytes: (await response.text()).length };
    };
    const echoOperation = async () => {
      const back = (await echoSocket.timeout(OPERATION_TIMEOUT_MS).emitWithAck(ECHO_EVENT, order)) as typeof order;
      return back?.items?.[0]?.id === order.items[0].id;
    };
    const answered = (value: { status: number; ok: boolean; detail: string }) => (value.status === 200 && value.ok ? undefined : `${value.status}: ${value.detail}`);

    const method = {
      test: 'built Admin API and relay agent: POST /api/connectors/{id}/test of a csv connector of the relay\'s group (SQL work queue, work:available, work:pull, testConnection on the relay, work:result, the answer)',
      ping: 'built Admin API and relay agent: POST /api/relays/{id}/commands { kind: ping }, timed by the caller',
      hub: 'the same pings, timed by the hub (roundTripMs of the answer: relay:command to the relay and its acknowledgement)',
      http: 'express in a process of its own: POST of a canned body of the test answer\'s size, same headers and in-flight count (the HTTP share; a reference, not the limit)',
      echo: `socket.io in a process of its own: an acknowledged echo of a ${payloadBytes}-byte work order over one websocket from this process, same in-flight count`,
    };

    for (const n of inFlight) {
      const cases = {
        test: `connection test through the relay, ${n} in flight`,
        ping: `ping command through the relay, ${n} in flight`,
        hub: `ping command, hub-measured, ${n} in flight`,
        http: `HTTP canned body, ${n} in flight`,
        echo: `socket.io echo, ${n} in flight`,
      };
      const parameters = { inFlight: n, seconds, payloadBytes, relayMaxConcurrentItems: RELAY_MAX_ITEMS, limitCase: cases.echo };
      const records: Array<Parameters<WorkloadContext['record']>> = [];
      const relayProcess = relay;
      try {
        await alternate({
          warmups: ctx.profile.warmups,
          runs: ctx.profile.runs,
          engine: async (run) => {
            relayProcess.resetPeakRss();
            admin.resetPeakRss();
            const beforeTest = await admin.metric(STATEMENTS_METRIC);
            const test = await load(cases.test, { inFlight: n, durationMs, operation: testOperation, accept: answered });
            const testPeaks = { relay: relayProcess.peakRssBytes(), admin: admin.peakRssBytes() };
            const testStatements = statementsPerOperation((await admin.metric(STATEMENTS_METRIC)) - beforeTest, test.result);
            relayProcess.resetPeakRss();
            admin.resetPeakRss();
            const beforePing = await admin.metric(STATEMENTS_METRIC);
            const ping = await load(cases.ping, { inFlight: n, durationMs, operation: pingOperation, accept: answered });
            const pingPeaks = { relay: relayProcess.peakRssBytes(), admin: admin.peakRssBytes() };
            const pingStatements = statementsPerOperation((await admin.metric(STATEMENTS_METRIC)) - beforePing, ping.result);
            const hub = innerLatency(ping.result, (v) => v.roundTripMs);
            const http = await load(cases.http, { inFlight: n, durationMs, operation: cannedOperation, accept: (v) => (v.status === 200 ? undefined : `${v.status}`) });
            const fields = (which: 'ping' | 'hub' | 'http', role: 'engine' | 'reference') => ({ workload: 'W5' as const, case: cases[which], dialect, role, run, parameters, rateUnit: 'ops/s' as const, method: method[which] });
            records.push(
              [fields('ping', 'engine'), { ...ping.sample, peakRssBytes: pingPeaks.relay, detail: { ...ping.sample.detail, hubRoundTripMs: hub, adminPeakRssMiB: mib(pingPeaks.admin), ...pingStatements } }],
              [fields('hub', 'engine'), { ...ping.sample, latencyMs: hub, detail: { clientLatencyMs: ping.sample.latencyMs } }],
              [fields('http', 'reference'), http.sample],
            );
            const server = innerLatency(test.result, (v) => v.durationMs);
            return { ...test.sample, peakRssBytes: testPeaks.relay, detail: { ...test.sample.detail, adminDurationMs: server, adminPeakRssMiB: mib(testPeaks.admin), ...testStatements } };
          },
          limit: async () => (await load(cases.echo, { inFlight: n, durationMs, operation: echoOperation, accept: (same) => (same ? undefined : 'the echo came back different') })).sample,
          onSample: (role, run, sample) => {
            ctx.record(role === 'engine' ? { workload: 'W5', case: cases.test, dialect, role, run, parameters, rateUnit: 'ops/s', method: method.test } : { workload: 'W5', case: cases.echo, dialect, role, run, parameters: { inFlight: n, seconds, payloadBytes }, rateUnit: 'ops/s', method: method.echo }, sample);
            for (const record of records.splice(0)) ctx.record(...record);
          },
        });
      } catch (error) {
        // One point failing (timeouts at 256 in flight) leaves the other points to measure.
        const reason = `failed: ${(error as Error).message}`;
        for (const name of Object.values(cases)) ctx.results.add({ workload: 'W5', case: name, dialect, role: 'not-run', run: 0, warmup: false, method: reason });
        ctx.log(`W5 at ${n} in flight on ${dialect} ${reason}\nrelay:\n${relay.tail(10)}\nadmin-api:\n${admin.tail(10)}`);
      }
    }
  } finally {
    client?.disconnect();
    await echo?.close();
    await relay?.stop();
    await admin.stop();
    await factory.drop(database);
  }
}

function mib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : round(bytes / MIB, 1);
}
