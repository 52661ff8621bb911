import { decideChainStep } from '@identitymesh/domain';
import type { RunView } from '@identitymesh/persistence';
import type { RunHeader } from './demo-lookup.repository';

/** One connector's chain within a cycle: its runs so far, and whether it has ended. */
export interface CycleChain {
  chainId: string;
  connectorId: string;
  runs: RunView[];
  ended: boolean;
}

/** One sync cycle: the chains the connectors' schedules fired from one fire of the lead connector on. */
export interface Cycle {
  number: number;
  /** When the lead connector's chain was queued. */
  queuedAt: Date;
  chains: Map<string, CycleChain>;
  /** Connectors that had no chain that ended in the cycle; empty for a complete cycle. */
  missing: string[];
}

/**
 * Groups the runs of scheduled chains into cycles. A cycle starts with a
 * chain of the lead connector (the HR people feed, whose schedule fires
 * first); each other connector's chain belongs to the cycle in which it
 * fired. A cycle is finished once each connector's chain in it has ended,
 * or — with a chain missing because a fire was skipped while the previous
 * chain was still under way — once a later cycle has finished or two later
 * cycles have started.
 *
 * Pure bookkeeping: it is fed what the poller reads and says what finished.
 */
export class CycleTracker {
  private readonly open: Cycle[] = [];
  private readonly chains = new Map<string, CycleChain>();
  private started = 0;

  constructor(
    private readonly leadConnectorId: string,
    private readonly connectorIds: readonly string[],
  ) {}

  /** Records a run as last read. Runs without a chain (queued by hand) belong to no cycle. */
  observe(header: RunHeader, run: RunView): void {
    if (!header.chain) return;
    let chain = this.chains.get(header.chain.id);
    if (!chain) {
      // A chain whose first run was queued before the demo started watching is not followed.
      if (header.chain.step !== 0) return;
      const cycle = this.cycleFor(header);
      if (!cycle || cycle.chains.has(header.connectorId)) return;
      chain = { chainId: header.chain.id, connectorId: header.connectorId, runs: [], ended: false };
      cycle.chains.set(header.connectorId, chain);
      this.chains.set(header.chain.id, chain);
    }
    const index = chain.runs.findIndex((r) => r.id === run.id);
    if (index >= 0) chain.runs[index] = run;
    else chain.runs.push(run);
    const decision = decideChainStep(run.status, header.chain.step, header.chain.profiles);
    if (decision.kind === 'complete' || decision.kind === 'stop') chain.ended = true;
  }

  /**
   * Cycles that finished since the last call, oldest first; each is returned
   * once. A cycle that cannot complete (a connector that no longer runs) is
   * given up once two later cycles have started.
   */
  takeFinished(): Cycle[] {
    const lastComplete = this.open.reduce((last, cycle, i) => (this.isComplete(cycle) ? i : last), -1);
    const upTo = Math.max(lastComplete, this.open.length - 3);
    if (upTo < 0) return [];
    const finished = this.open.splice(0, upTo + 1);
    for (const cycle of finished) {
      cycle.missing = this.connectorIds.filter((id) => !cycle.chains.get(id)?.ended);
      for (const chain of cycle.chains.values()) this.chains.delete(chain.chainId);
    }
    return finished;
  }

  private isComplete(cycle: Cycle): boolean {
    return this.connectorIds.every((id) => cycle.chains.get(id)?.ended === true);
  }

  private cycleFor(header: RunHeader): Cycle | undefined {
    if (header.connectorId === this.leadConnectorId) {
      const cycle: Cycle = { number: ++this.started, queuedAt: header.queuedAt, chains: new Map(), missing: [] };
      this.open.push(cycle);
      return cycle;
    }
    return [...this.open].reverse().find((cycle) => cycle.queuedAt.getTime() <= header.queuedAt.getTime());
  }
}
