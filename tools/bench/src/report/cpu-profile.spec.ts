import { categoryOf, SourceMapLookup, summarizeCpuProfile } from './cpu-profile';

describe('CPU profile summary', () => {
  // "AAAA" maps column 0 of line 0 to source 0; "ICAA" moves 4 columns on and to source 1.
  const map = new SourceMapLookup(['webpack://bench/./libs/domain/src/lib/rules/flows.ts', 'webpack://sync-engine/./src/sync/sync-batch.ts'], 'AAAA,ICAA');

  it('maps bundle positions back to the repository folder they came from', () => {
    expect(map.sourceOf(0, 2)).toContain('libs/domain');
    expect(map.sourceOf(0, 9)).toContain('sync-batch');
    expect(categoryOf({ functionName: 'f', url: 'file:///x/dist/apps/sync-engine/main.js', lineNumber: 0, columnNumber: 5 }, map)).toBe('apps/sync-engine/src/sync');
    expect(categoryOf({ functionName: 'parse', url: 'file:///x/node_modules/csv-parse/dist/cjs/sync.cjs', lineNumber: 0, columnNumber: 0 })).toBe('npm: csv-parse');
    expect(categoryOf({ functionName: '(garbage collector)', url: '', lineNumber: -1, columnNumber: -1 })).toBe('garbage collection');
  });

  it('adds up own time per category', () => {
    const frame = (id: number, functionName: string, url: string, children?: number[]) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });
    const profile = { nodes: [frame(1, '(root)', '', [2, 3]), frame(2, 'build', 'file:///n/node_modules/typeorm/query-builder/QueryBuilder.js'), frame(3, '(garbage collector)', '')], samples: [2, 2, 3], timeDeltas: [1000, 1000, 2000] };
    const summary = summarizeCpuProfile(profile);
    expect(summary.totalMs).toBe(4);
    expect(summary.categories).toEqual([
      { name: 'TypeORM (query building, parameters, hydrating rows)', ms: 2, share: 0.5 },
      { name: 'garbage collection', ms: 2, share: 0.5 },
    ]);
  });
});
