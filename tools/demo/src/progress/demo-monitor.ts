import type { DataSource } from 'typeorm';
import { ExportQueueRepository, MeshRepository, RunRepository } from '@identitymesh/persistence';
import type { RunView } from '@identitymesh/persistence';
import type { DemoPaths } from '../demo-paths';
import type { DeltaChangeList } from '../feed/demo-feed';
import { readDirectory } from '../targets/directory-database';
import { readPhoneList } from '../targets/phone-list';
import { CycleFacts, cycleRuns, cycleSummaryLines } from './cycle-report';
import { Cycle, CycleTracker } from './cycle-tracker';
import { checkDelta } from './delta-check';
import { DemoLookupRepository } from './demo-lookup.repository';
import { runFinishedLine, runStartedLine } from './run-lines';

const ERROR_SAMPLES = 3;

export interface MonitoredConnector {
  id: string;
  name: string;
}

/**
 * Follows the demo connectors' runs in `IM_Runs` (read-only): one line when
 * a run starts and one when it ends, and a summary after each cycle of
 * what the mesh and the targets hold.
 */
export class DemoMonitor {
  private readonly runs: RunRepository;
  private readonly mesh: MeshRepository;
  private readonly exportQueue: ExportQueueRepository;
  private readonly lookup: DemoLookupRepository;
  private readonly tracker: CycleTracker;
  private readonly names: Map<string, string>;
  /** Runs already reported as ended; they are not read again. */
  private readonly done = new Set<string>();
  private readonly reportedStart = new Set<string>();
  private delta: { changes: DeltaChangeList; fromCycle: number } | null = null;
  /** Runs queued before this are ended and reported. */
  private from: Date;

  constructor(
    dataSource: DataSource,
    private readonly paths: DemoPaths,
    private readonly connectors: { lead: MonitoredConnector; all: MonitoredConnector[]; targets: MonitoredConnector[] },
    since: Date,
    private readonly out: (line: string) => void,
  ) {
    this.from = since;
    this.runs = new RunRepository(dataSource);
    this.mesh = new MeshRepository(dataSource);
    this.exportQueue = new ExportQueueRepository(dataSource);
    this.lookup = new DemoLookupRepository(dataSource);
    this.names = new Map(connectors.all.map((c) => [c.id, c.name]));
    this.tracker = new CycleTracker(
      connectors.lead.id,
      connectors.all.map((c) => c.id),
    );
  }

  /** The first cycle numbered above `afterCycle` also compares the targets with what delta-1 changed. */
  reportDelta(changes: DeltaChangeList, afterCycle: number): void {
    this.delta = { changes, fromCycle: afterCycle + 1 };
  }

  /** Reads what changed since the last poll, prints it, and returns the cycles that finished (their summaries printed). */
  async poll(): Promise<Cycle[]> {
    const headers = await this.lookup.runsQueuedSince(
      this.connectors.all.map((c) => c.id),
      this.from,
    );
    for (const header of headers) {
      if (this.done.has(header.id)) continue;
      const run = await this.runs.findById(header.id);
      if (!run) continue;
      this.report(run);
      this.tracker.observe(header, run);
    }
    // Next time, read from the oldest run still under way (or the newest seen): a long-running demo reads a few rows a poll, not its whole history.
    const open = headers.find((header) => !this.done.has(header.id));
    const newest = headers.at(-1);
    if (open) this.from = open.queuedAt;
    else if (newest) this.from = newest.queuedAt;
    const finished = this.tracker.takeFinished();
    for (const cycle of finished) for (const line of cycleSummaryLines(await this.facts(cycle))) this.out(line);
    return finished;
  }

  private report(run: RunView): void {
    const name = this.names.get(run.connectorId) ?? run.connectorId;
    const ended = run.status !== 'queued' && run.status !== 'running';
    if (!this.reportedStart.has(run.id) && (run.status === 'running' || (ended && run.startedAt))) {
      this.reportedStart.add(run.id);
      this.out(runStartedLine(name, run));
    }
    if (ended) {
      this.done.add(run.id);
      this.reportedStart.delete(run.id);
      this.out(runFinishedLine(name, run));
    }
  }

  private async facts(cycle: Cycle): Promise<CycleFacts> {
    const errorSamples: string[] = [];
    for (const run of cycleRuns(cycle)) {
      const name = this.names.get(run.connectorId) ?? run.connectorId;
      if (run.status === 'failed' || run.status === 'cancelled') errorSamples.push(`${name} ${run.profile}: ${run.message ?? run.status}`);
      if (run.errors > 0 && errorSamples.length < ERROR_SAMPLES) {
        for (const error of await this.runs.listObjectErrors(run.id, ERROR_SAMPLES)) errorSamples.push(`${name} ${run.profile}: ${error.code} ${error.message}`);
      }
    }
    const queuedExports = new Map<string, number>();
    for (const target of this.connectors.targets) {
      const counts = await this.exportQueue.counts(target.id);
      const sum = (byOperation: Record<string, number>) => Object.values(byOperation).reduce((a, b) => a + b, 0);
      queuedExports.set(target.name, sum(counts.pending) + sum(counts.inFlight) + counts.heldDeletes + counts.parked);
    }
    const directory = readDirectory(this.paths.directory);
    const phoneList = readPhoneList(this.paths.phoneList);
    const delta = this.delta && cycle.number >= this.delta.fromCycle ? checkDelta(this.delta.changes, directory, phoneList) : undefined;
    if (delta) this.delta = null;
    return {
      cycle,
      connectorNames: this.names,
      mesh: { people: await this.mesh.count('person'), groups: await this.mesh.count('group') },
      directory,
      phoneList,
      queuedExports,
      errorSamples: errorSamples.slice(0, ERROR_SAMPLES + 2),
      delta,
    };
  }
}
