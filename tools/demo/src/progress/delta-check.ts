import type { Person, PersonAttribute, PersonChange } from '@identitymesh/identity-generator';
import type { DeltaChangeList } from '../feed/demo-feed';
import type { DirectoryContent, DirectoryPerson } from '../targets/directory-database';
import type { PhoneListRow } from '../targets/phone-list';

/** One kind of change delta-1 made, and how many of them the targets show. */
export interface DeltaCheckLine {
  label: string;
  /** Changes of this kind in the feed. */
  expected: number;
  /** Of those, the ones the directory (and phone list) show. */
  shown: number;
  /** What the targets show instead, for the first few that differ. */
  differences: string[];
}

const SHOWN_DIFFERENCES = 3;

/**
 * Compares what delta-1 changed (the generator's change lists, its oracle)
 * with what the directory and the phone list hold after the cycle that
 * imported it: the demo's way of showing that the delta went all the way
 * through.
 */
export function checkDelta(changes: DeltaChangeList, directory: DirectoryContent, phoneList: readonly PhoneListRow[]): DeltaCheckLine[] {
  const byEmployee = new Map<string, DirectoryPerson>();
  for (const person of directory.people) if (person.employeeId) byEmployee.set(person.employeeId, person);
  const onPhoneList = new Set(phoneList.map((row) => row['Employee ID']));
  const accountOf = (employeeId: string | undefined) => (employeeId ? (byEmployee.get(employeeId)?.accountName ?? null) : null);

  const lines: DeltaCheckLine[] = [];
  const check = (label: string, picked: PersonChange[], verdict: (change: PersonChange, row: DirectoryPerson | undefined) => string | null) => {
    const differences: string[] = [];
    let shown = 0;
    for (const change of picked) {
      const problem = verdict(change, byEmployee.get(change.employeeId));
      if (problem === null) shown++;
      else if (differences.length < SHOWN_DIFFERENCES) differences.push(`${change.employeeId}: ${problem}`);
    }
    lines.push({ label, expected: picked.length, shown, differences });
  };
  // Picked by the attributes that changed, not by the reason: a move changes the manager too.
  const changing = (attribute: PersonAttribute) => changes.people.filter((c) => c.kind === 'modify' && c.attributes.includes(attribute));
  const after = (change: PersonChange): Person => ('after' in change ? change.after : change.before);
  const present = (_: PersonChange, row: DirectoryPerson | undefined) => (row ? null : 'no account in the directory');
  const same = (what: string, actual: string | null | undefined, wanted: string | null | undefined) =>
    (actual ?? null) === (wanted ?? null) ? null : `${what} is ${JSON.stringify(actual ?? null)}, the feed says ${JSON.stringify(wanted ?? null)}`;

  check('hires', changes.people.filter((c) => c.kind === 'hire'), present);
  check('rehires', changes.people.filter((c) => c.kind === 'rehire'), present);
  check('leavers', changes.people.filter((c) => c.kind === 'leave'), (change, row) => {
    if (row) return `still in the directory as ${row.accountName}`;
    return onPhoneList.has(change.employeeId) ? 'still on the phone list' : null;
  });
  check('moves', changing('department'), (change, row) => (row ? same('department', row.department, after(change).department) : 'no account'));
  check('renames', changing('surname'), (change, row) => (row ? same('surname', row.surname, after(change).surname) : 'no account'));
  check('new titles', changing('title'), (change, row) => (row ? same('title', row.title, after(change).title) : 'no account'));
  check('new managers', changing('manager'), (change, row) => (row ? same('manager', row.manager, accountOf(after(change).manager)) : 'no account'));
  check('starts', changing('employmentStatus').filter((c) => after(c).employmentStatus === 'active'), (change, row) => {
    if (!row) return 'no account';
    if (row.enabled !== true) return 'the account is not enabled';
    return onPhoneList.has(change.employeeId) ? null : 'not on the phone list';
  });

  const members = new Map(directory.groups.map((group) => [group.groupId, new Set(group.members)]));
  const differences: string[] = [];
  let expected = 0;
  let shown = 0;
  for (const group of changes.groups) {
    const held = members.get(group.groupId) ?? new Set<string>();
    for (const [employeeIds, wanted] of [
      [group.added, true],
      [group.removed, false],
    ] as const) {
      for (const employeeId of employeeIds) {
        expected++;
        const account = accountOf(employeeId);
        // A removed member who left has no account any more, so no group can list them.
        const isMember = account !== null && held.has(account);
        if (isMember === wanted) shown++;
        else if (differences.length < SHOWN_DIFFERENCES) differences.push(`${group.groupId}: ${employeeId} ${wanted ? 'is missing' : 'is still a member'}`);
      }
    }
  }
  lines.push({ label: 'membership changes', expected, shown, differences });
  return lines;
}
