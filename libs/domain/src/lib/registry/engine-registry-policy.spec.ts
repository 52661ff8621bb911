import { decideEngineStart, describeEngine, EngineInstanceView, isEngineAlive } from './engine-registry-policy';

const now = new Date('2026-01-01T12:00:00Z');
const engine = (over: Partial<EngineInstanceView>): EngineInstanceView => ({
  id: 'other',
  host: 'host-b',
  pid: 42,
  version: '1.0.0',
  status: 'active',
  startedAt: new Date(now.getTime() - 3_600_000),
  heartbeatAt: new Date(now.getTime() - 5_000),
  ...over,
});

describe('engine registry policy', () => {
  it('treats a fresh heartbeat as alive and an old or stopped one as gone', () => {
    expect(isEngineAlive(engine({}), now, 30_000)).toBe(true);
    expect(isEngineAlive(engine({ heartbeatAt: new Date(now.getTime() - 31_000) }), now, 30_000)).toBe(false);
    expect(isEngineAlive(engine({ status: 'stopped' }), now, 30_000)).toBe(false);
  });

  it('starts active on an empty registry', () => {
    expect(decideEngineStart({ self: 'me', mode: 'single', policy: 'refuse', instances: [], now, staleAfterMs: 30_000 })).toEqual({
      kind: 'active',
    });
  });

  it('refuses a second live engine in single-instance mode and names it', () => {
    const rival = engine({});
    const decision = decideEngineStart({ self: 'me', mode: 'single', policy: 'refuse', instances: [rival], now, staleAfterMs: 30_000 });
    expect(decision).toEqual({ kind: 'refuse', because: rival });
    expect(describeEngine(rival, now)).toContain('engine other on host host-b (pid 42');
  });

  it('stays passive instead when so configured', () => {
    const decision = decideEngineStart({ self: 'me', mode: 'single', policy: 'passive', instances: [engine({})], now, staleAfterMs: 30_000 });
    expect(decision.kind).toBe('passive');
  });

  it('ignores its own row, passive engines and stale heartbeats', () => {
    const instances = [
      engine({ id: 'me' }),
      engine({ id: 'p', status: 'passive' }),
      engine({ id: 'old', heartbeatAt: new Date(now.getTime() - 120_000) }),
    ];
    expect(decideEngineStart({ self: 'me', mode: 'single', policy: 'refuse', instances, now, staleAfterMs: 30_000 }).kind).toBe('active');
  });

  it('lets every engine be active in cluster mode', () => {
    expect(decideEngineStart({ self: 'me', mode: 'cluster', policy: 'refuse', instances: [engine({})], now, staleAfterMs: 30_000 }).kind).toBe('active');
  });
});
