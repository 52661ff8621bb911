import type { RunProfile } from '@identitymesh/domain';
import type { RunView } from '@identitymesh/persistence';

/** The counters worth naming for a profile, in the words its runs use (see docs/engine.md). */
const COUNTER_WORDS: Record<'import' | 'sync' | 'export', Array<[keyof RunView, string]>> = {
  import: [
    ['added', 'added'],
    ['updated', 'updated'],
    ['deleted', 'deleted'],
  ],
  sync: [
    ['projected', 'projected'],
    ['joined', 'joined'],
    ['updated', 'mesh objects updated'],
    ['deleted', 'mesh objects deleted'],
    ['added', 'provisioned'],
    ['exported', 'exports queued'],
  ],
  export: [
    ['added', 'added'],
    ['updated', 'updated'],
    ['deleted', 'deleted'],
    ['heldDeletes', 'deletes held for approval'],
  ],
};

function familyOf(profile: RunProfile): keyof typeof COUNTER_WORDS {
  if (profile === 'full-sync' || profile === 'delta-sync') return 'sync';
  if (profile === 'export') return 'export';
  return 'import';
}

/** `HR people   delta-import `: the connector and profile, padded so the lines of a cycle line up. */
export function runLabel(connectorName: string, profile: RunProfile): string {
  return `${connectorName.padEnd(10)}  ${profile.padEnd(12)}`;
}

export function runStartedLine(connectorName: string, run: RunView): string {
  const resumed = run.recoveries > 0 ? ` (resumed after ${run.recoveries} interruption(s))` : '';
  return `${runLabel(connectorName, run.profile)}  started${resumed}`;
}

/** One line for a run that ended: how, how long, and its counters that are not zero. */
export function runFinishedLine(connectorName: string, run: RunView): string {
  const seconds = run.startedAt && run.finishedAt ? ` in ${formatSeconds(run.finishedAt.getTime() - run.startedAt.getTime())}` : '';
  const counts = COUNTER_WORDS[familyOf(run.profile)].filter(([key]) => Number(run[key]) > 0).map(([key, word]) => `${run[key]} ${word}`);
  if (run.errors > 0) counts.push(`${run.errors} failed`);
  const what = counts.length > 0 ? counts.join(', ') : 'nothing to do';
  const status = run.status === 'succeeded' ? 'done' : run.status;
  const why = run.status === 'failed' || run.status === 'stopped-error-threshold' || run.status === 'held-for-approval' || run.status === 'cancelled' ? ` — ${run.message ?? 'no message'}` : '';
  return `${runLabel(connectorName, run.profile)}  ${status}${seconds}: ${what}${why}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
