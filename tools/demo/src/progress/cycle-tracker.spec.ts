import type { RunProfile, RunStatus } from '@identitymesh/domain';
import type { RunView } from '@identitymesh/persistence';
import { CycleTracker } from './cycle-tracker';
import type { RunHeader } from './demo-lookup.repository';

const PEOPLE = 'people';
const GROUPS = 'groups';
const DIRECTORY = 'directory';
const ALL = [PEOPLE, GROUPS, DIRECTORY];

let clock = Date.UTC(2025, 0, 1);
let runs = 0;

/** A run of a scheduled chain as the poller reads it: its header and its view. */
function run(connectorId: string, chainId: string, step: number, profiles: RunProfile[], status: RunStatus): { header: RunHeader; view: RunView } {
  const queuedAt = new Date((clock += 1000));
  const id = `run-${++runs}`;
  const view = { id, connectorId, profile: profiles[step], status, queuedAt, startedAt: queuedAt, finishedAt: status === 'running' ? null : queuedAt, errors: 0 } as RunView;
  return { header: { id, connectorId, queuedAt, chain: { id: chainId, step, profiles } }, view };
}

function feed(tracker: CycleTracker, ...items: Array<{ header: RunHeader; view: RunView }>): void {
  for (const item of items) tracker.observe(item.header, item.view);
}

describe('CycleTracker', () => {
  it('finishes a cycle once every connector’s chain has ended, and only once', () => {
    const tracker = new CycleTracker(PEOPLE, ALL);
    feed(tracker, run(PEOPLE, 'p1', 0, ['delta-import', 'delta-sync'], 'succeeded'), run(PEOPLE, 'p1', 1, ['delta-import', 'delta-sync'], 'succeeded'));
    feed(tracker, run(GROUPS, 'g1', 0, ['delta-import', 'full-sync'], 'succeeded'));
    expect(tracker.takeFinished()).toEqual([]);
    const lastStep = run(GROUPS, 'g1', 1, ['delta-import', 'full-sync'], 'running');
    feed(tracker, lastStep, run(DIRECTORY, 'd1', 0, ['export'], 'succeeded'));
    expect(tracker.takeFinished()).toEqual([]);

    feed(tracker, { header: lastStep.header, view: { ...lastStep.view, status: 'succeeded' } });
    const [cycle, ...more] = tracker.takeFinished();
    expect(more).toEqual([]);
    expect(cycle.number).toBe(1);
    expect(cycle.missing).toEqual([]);
    expect([...cycle.chains.keys()].sort()).toEqual([DIRECTORY, GROUPS, PEOPLE]);
    expect(cycle.chains.get(GROUPS)?.runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(tracker.takeFinished()).toEqual([]);
  });

  it('ends a chain at a run that stops it', () => {
    const tracker = new CycleTracker(PEOPLE, [PEOPLE]);
    feed(tracker, run(PEOPLE, 'p1', 0, ['delta-import', 'delta-sync'], 'failed'));
    expect(tracker.takeFinished().map((c) => c.number)).toEqual([1]);
  });

  it('reports a cycle that lacks a chain once a later cycle has finished, naming what is missing', () => {
    const tracker = new CycleTracker(PEOPLE, [PEOPLE, DIRECTORY]);
    // Cycle 1: the directory's fire was skipped (its previous chain was still under way).
    feed(tracker, run(PEOPLE, 'p1', 0, ['delta-import'], 'succeeded'));
    feed(tracker, run(PEOPLE, 'p2', 0, ['delta-import'], 'succeeded'), run(DIRECTORY, 'd2', 0, ['export'], 'succeeded'));
    const finished = tracker.takeFinished();
    expect(finished.map((c) => [c.number, c.missing])).toEqual([
      [1, [DIRECTORY]],
      [2, []],
    ]);
  });

  it('gives a cycle up once two later cycles have started without one finishing', () => {
    const tracker = new CycleTracker(PEOPLE, [PEOPLE, DIRECTORY]);
    feed(tracker, run(PEOPLE, 'p1', 0, ['delta-import'], 'succeeded'), run(PEOPLE, 'p2', 0, ['delta-import'], 'succeeded'));
    expect(tracker.takeFinished()).toEqual([]);
    feed(tracker, run(PEOPLE, 'p3', 0, ['delta-import'], 'succeeded'));
    expect(tracker.takeFinished().map((c) => [c.number, c.missing])).toEqual([[1, [DIRECTORY]]]);
  });

  it('follows no chain that began before it was watching, and no run queued by hand', () => {
    const tracker = new CycleTracker(PEOPLE, [PEOPLE, DIRECTORY]);
    // A directory chain before the first people chain belongs to no cycle; a later step of an unseen chain neither.
    feed(tracker, run(DIRECTORY, 'd0', 0, ['export'], 'succeeded'), run(PEOPLE, 'p0', 1, ['delta-import', 'delta-sync'], 'succeeded'));
    const manual = run(DIRECTORY, 'x', 0, ['export'], 'succeeded');
    feed(tracker, run(PEOPLE, 'p1', 0, ['delta-import'], 'succeeded'), { header: { ...manual.header, chain: null }, view: manual.view });
    expect(tracker.takeFinished()).toEqual([]);
    feed(tracker, run(DIRECTORY, 'd1', 0, ['export'], 'succeeded'));
    expect(tracker.takeFinished().map((c) => c.number)).toEqual([1]);
  });
});
