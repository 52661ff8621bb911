import type { RunView } from '@identitymesh/persistence';
import type { DirectoryContent } from '../targets/directory-database';
import type { PhoneListRow } from '../targets/phone-list';
import type { Cycle } from './cycle-tracker';
import type { DeltaCheckLine } from './delta-check';
import { formatSeconds } from './run-lines';

/** What the summary of a cycle says, read right after its last run ended. */
export interface CycleFacts {
  cycle: Cycle;
  connectorNames: ReadonlyMap<string, string>;
  mesh: { people: number; groups: number };
  directory: DirectoryContent;
  phoneList: readonly PhoneListRow[];
  /** Export items still waiting (pending, in flight, held, parked), by target connector name. */
  queuedExports: ReadonlyMap<string, number>;
  /** The first few per-object errors and failed runs' messages of the cycle. */
  errorSamples: string[];
  /** Present for the cycle that imported delta-1. */
  delta?: DeltaCheckLine[];
}

export function cycleRuns(cycle: Cycle): RunView[] {
  return [...cycle.chains.values()].flatMap((chain) => chain.runs);
}

/** The summary printed after each cycle: what the mesh and the targets hold now, errors, time taken. */
export function cycleSummaryLines(facts: CycleFacts): string[] {
  const { cycle, directory } = facts;
  const runs = cycleRuns(cycle);
  const starts = runs.map((r) => (r.startedAt ?? r.queuedAt).getTime());
  const ends = runs.map((r) => r.finishedAt?.getTime() ?? 0);
  const took = runs.length > 0 ? formatSeconds(Math.max(...ends) - Math.min(...starts)) : 'no runs';
  // The runs themselves, without the waits between the connectors' fires.
  const busy = formatSeconds(runs.reduce((sum, r) => sum + (r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : 0), 0));
  const errors = runs.reduce((sum, r) => sum + r.errors, 0);
  const failedRuns = runs.filter((r) => !['succeeded', 'completed-with-errors'].includes(r.status));

  const enabled = directory.people.filter((p) => p.enabled === true).length;
  const memberships = directory.groups.reduce((sum, g) => sum + g.members.length, 0);
  // Composed account names have no digits of their own: a trailing number is the counter of a repeated name.
  const numbered = directory.people.filter((p) => /\d$/.test(p.accountName));
  const example = numbered[0];
  const distinct = new Set(directory.people.map((p) => p.accountName.toLowerCase())).size;
  const uniqueness = distinct === directory.people.length ? 'unique' : `${directory.people.length - distinct} NOT unique`;
  const queued = [...facts.queuedExports.entries()].filter(([, count]) => count > 0).map(([name, count]) => `${count} for ${name}`);

  const lines = [
    `cycle ${cycle.number} finished in ${took} (${runs.length} runs, ${busy} of work)${facts.cycle.missing.length > 0 ? ` (incomplete: no finished chain of ${facts.cycle.missing.map((id) => facts.connectorNames.get(id) ?? id).join(', ')})` : ''}`,
    `  mesh        ${facts.mesh.people} people, ${facts.mesh.groups} groups`,
    `  Directory   ${directory.people.length} accounts (${enabled} enabled), ${directory.groups.length} groups with ${memberships} memberships`,
    `  accounts    ${uniqueness}; ${numbered.length} got a number because the name was taken${example ? ` (${example.displayName ?? '?'} is ${example.accountName})` : ''}`,
    `  Phone list  ${facts.phoneList.length} rows`,
    `  exports     ${queued.length > 0 ? `still queued: ${queued.join(', ')}` : 'nothing left queued'}`,
    `  errors      ${errors === 0 && failedRuns.length === 0 ? 'none' : `${errors} object(s) failed${failedRuns.length > 0 ? `, ${failedRuns.length} run(s) did not succeed` : ''}`}`,
    ...facts.errorSamples.map((sample) => `              ${sample}`),
  ];
  if (facts.delta) {
    lines.push('  delta-1     what the feed changed → what the targets show');
    for (const line of facts.delta) {
      lines.push(`              ${line.label.padEnd(18)} ${String(line.expected).padStart(5)} → ${line.shown}${line.shown === line.expected ? ' ✓' : ''}`);
      for (const difference of line.differences) lines.push(`                ${difference}`);
    }
  }
  return lines;
}
