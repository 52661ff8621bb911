import { ClusterMode } from '../model/vocabulary';

/** What the engine registry knows about one engine process. */
export interface EngineInstanceView {
  id: string;
  host: string;
  pid: number;
  version: string;
  status: 'active' | 'passive' | 'stopped';
  startedAt: Date;
  heartbeatAt: Date;
}

/** What a single-instance engine does when it finds another live engine. */
export type EngineConflictPolicy = 'refuse' | 'passive';

export type EngineStartDecision =
  | { kind: 'active' }
  | { kind: 'passive'; because: EngineInstanceView }
  | { kind: 'refuse'; because: EngineInstanceView };

/**
 * An engine counts as alive while its last heartbeat is younger than the
 * staleness window; a stopped engine never counts, whatever its heartbeat.
 */
export function isEngineAlive(instance: EngineInstanceView, now: Date, staleAfterMs: number): boolean {
  return instance.status !== 'stopped' && now.getTime() - instance.heartbeatAt.getTime() < staleAfterMs;
}

/**
 * Decides how a starting engine joins the registry. In single-instance mode a
 * second live active engine on the same database is the accident the registry
 * exists to catch (an active/passive pair both started): it is refused or kept
 * passive, never allowed to run connectors beside the first. Cluster mode
 * shares work through leases, so every engine is active there.
 */
export function decideEngineStart(input: {
  self: string;
  mode: ClusterMode;
  policy: EngineConflictPolicy;
  instances: readonly EngineInstanceView[];
  now: Date;
  staleAfterMs: number;
}): EngineStartDecision {
  if (input.mode === 'cluster') return { kind: 'active' };
  const rival = input.instances
    .filter((i) => i.id !== input.self && i.status === 'active' && isEngineAlive(i, input.now, input.staleAfterMs))
    .sort((a, b) => b.heartbeatAt.getTime() - a.heartbeatAt.getTime())[0];
  if (!rival) return { kind: 'active' };
  return input.policy === 'passive' ? { kind: 'passive', because: rival } : { kind: 'refuse', because: rival };
}

/** A one-line description of another engine for operator-facing messages. */
export function describeEngine(instance: EngineInstanceView, now: Date): string {
  const ageSeconds = Math.max(0, Math.round((now.getTime() - instance.heartbeatAt.getTime()) / 1000));
  return `engine ${instance.id} on host ${instance.host} (pid ${instance.pid}, version ${instance.version}, last heartbeat ${ageSeconds}s ago)`;
}
