import { BenchArgumentError, parseBenchArguments, WORKLOADS } from './bench-arguments';

describe('bench arguments', () => {
  it('runs the quick profile of every workload on both dialects by default', () => {
    expect(parseBenchArguments([])).toEqual({ full: false, workloads: [...WORKLOADS], dialects: ['sqlite', 'postgres'], out: 'bench-results', profileEngine: false, help: false });
  });

  it('reads both option forms', () => {
    expect(parseBenchArguments(['--full', '--only', 'W1,W3', '--dialects=postgres', '--people', '2000', '--runs=5', '--out', '/tmp/r'])).toEqual({
      full: true,
      workloads: ['W1', 'W3'],
      dialects: ['postgres'],
      people: 2000,
      runs: 5,
      out: '/tmp/r',
      profileEngine: false,
      help: false,
    });
  });

  it('selects the relay round trips alone', () => {
    expect(parseBenchArguments(['--only', 'W5', '--dialects', 'sqlite'])).toMatchObject({ workloads: ['W5'], dialects: ['sqlite'], full: false });
    expect(parseBenchArguments(['--only=W5,W6,W5']).workloads).toEqual(['W5', 'W6']);
  });

  it('caps the engine heap when asked, and only with a whole number of MiB', () => {
    expect(parseBenchArguments(['--engine-heap-mb', '384']).engineHeapMb).toBe(384);
    expect(parseBenchArguments([]).engineHeapMb).toBeUndefined();
    expect(() => parseBenchArguments(['--engine-heap-mb=0'])).toThrow(BenchArgumentError);
    expect(() => parseBenchArguments(['--engine-heap-mb', 'lots'])).toThrow(BenchArgumentError);
  });

  it('refuses what it does not know instead of ignoring it', () => {
    expect(() => parseBenchArguments(['--ful'])).toThrow(BenchArgumentError);
    expect(() => parseBenchArguments(['--only', 'W9'])).toThrow('--only: unknown "W9"');
    expect(() => parseBenchArguments(['--dialects', 'mssql'])).toThrow('unknown "mssql"');
    expect(() => parseBenchArguments(['--runs', '0'])).toThrow('--runs must be a whole number above 0');
    expect(() => parseBenchArguments(['--people'])).toThrow('--people needs a value');
  });
});
