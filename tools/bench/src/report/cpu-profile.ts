import { existsSync, readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Which source file a generated line and column of a webpack bundle came
 * from, by its source map (version 3): enough to say "libs/domain" instead of
 * "main.js:2527" without a source-map dependency.
 */
export class SourceMapLookup {
  private readonly lines: Array<Array<[column: number, source: number]>> = [];

  constructor(private readonly sources: string[], mappings: string) {
    let source = 0;
    for (const line of mappings.split(';')) {
      const segments: Array<[number, number]> = [];
      let column = 0;
      for (const segment of line.split(',')) {
        if (!segment) continue;
        const fields = decodeVlq(segment);
        column += fields[0];
        if (fields.length >= 4) {
          source += fields[1];
          segments.push([column, source]);
        }
      }
      this.lines.push(segments);
    }
  }

  static fromFile(path: string): SourceMapLookup | undefined {
    if (!existsSync(path)) return undefined;
    const map = JSON.parse(readFileSync(path, 'utf8')) as { sources: string[]; mappings: string };
    return new SourceMapLookup(map.sources, map.mappings);
  }

  /** The source of a 0-based generated line and column, or undefined. */
  sourceOf(line: number, column: number): string | undefined {
    const segments = this.lines[line];
    if (!segments || segments.length === 0) return undefined;
    let found: [number, number] | undefined;
    for (const segment of segments) {
      if (segment[0] > column) break;
      found = segment;
    }
    return this.sources[(found ?? segments[0])[1]];
  }
}

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** A readable name for where a sample's own time was spent. */
export function categoryOf(frame: { functionName: string; url: string; lineNumber: number; columnNumber: number }, map?: SourceMapLookup): string {
  const { functionName, url } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return 'idle (waiting: database server, network, timers)';
  if (url.includes('better-sqlite3') || (url.includes('BetterSqlite3') && functionName === 'query')) return 'SQLite (in process: executing statements)';
  if (url.includes('/typeorm/')) return 'TypeORM (query building, parameters, hydrating rows)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return `npm: ${pkg}`;
  if (url.endsWith('main.js') && map) {
    const source = map.sourceOf(frame.lineNumber, frame.columnNumber) ?? '';
    // The app's own files are named relative to the app: webpack://sync-engine/./src/sync/sync-batch.ts.
    const own = /^webpack:\/\/([^/]+)\/\.\/src\/([^/]+)\//.exec(source);
    if (own) return `apps/${own[1]}/src/${own[2]}`;
    const inRepo = /(apps\/[^/]+\/src\/[^/]+|libs\/[^/]+\/src\/lib\/[^/]+|libs\/[^/]+)/.exec(source)?.[1];
    if (inRepo) return inRepo;
    const bundled = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
    if (bundled) return `npm: ${bundled}`;
    return source ? `other: ${source.replace(/^webpack:\/\//, '')}` : 'engine bundle (unmapped)';
  }
  if (url.startsWith('node:') || !url.includes('/')) return 'Node.js runtime (modules, streams, crypto, JSON)';
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  categories: Array<{ name: string; ms: number; share: number }>;
  functions: Array<{ name: string; ms: number; share: number }>;
}

/** Own time of a CPU profile by category (source folder, package, GC) and the busiest functions. */
export function summarizeCpuProfile(profile: CpuProfile, map?: SourceMapLookup, top = 25): ProfileSummary {
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of byNode) {
    const node = nodes.get(id);
    if (!node) continue;
    total += micros;
    const category = categoryOf(node.callFrame, map);
    categories.set(category, (categories.get(category) ?? 0) + micros);
    const name = `${node.callFrame.functionName || '(anonymous)'} [${category}]`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const rank = (entries: Map<string, number>, limit: number) =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), share: total ? micros / total : 0 }));
  return { totalMs: Math.round(total / 1000), categories: rank(categories, 30), functions: rank(functions, top) };
}

export function formatProfileSummary(title: string, summary: ProfileSummary): string {
  const line = (entry: { name: string; ms: number; share: number }) => `  ${String(entry.ms).padStart(7)} ms ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.name}`;
  return [`${title}: ${summary.totalMs} ms of samples`, ' own time by where it was spent:', ...summary.categories.map(line), ' busiest functions:', ...summary.functions.map(line), ''].join('\n');
}

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}
