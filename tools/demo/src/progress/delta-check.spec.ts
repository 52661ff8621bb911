import { generateDelta, generatePopulation } from '@identitymesh/identity-generator';
import type { Population } from '@identitymesh/identity-generator';
import type { DirectoryContent } from '../targets/directory-database';
import type { PhoneListRow } from '../targets/phone-list';
import { checkDelta } from './delta-check';

const account = (employeeId: string) => `a${employeeId.toLowerCase()}`;

/** What the targets hold when the demo's rules carried a population through. */
function targetsOf(population: Population): { directory: DirectoryContent; phoneList: PhoneListRow[] } {
  return {
    directory: {
      people: population.people.map((p) => ({
        accountName: account(p.employeeId),
        employeeId: p.employeeId,
        displayName: `${p.preferredName ?? p.givenName} ${p.surname}`,
        givenName: p.givenName,
        surname: p.surname,
        mail: null,
        department: p.department,
        title: p.title,
        manager: p.manager ? account(p.manager) : null,
        enabled: p.employmentStatus === 'active',
      })),
      groups: population.groups.map((g) => ({ groupId: g.groupId, name: g.name, kind: g.kind, members: g.members.map(account), memberGroups: g.memberGroups })),
    },
    phoneList: population.people.filter((p) => p.employmentStatus === 'active').map((p) => ({ 'Employee ID': p.employeeId }) as PhoneListRow),
  };
}

describe('checkDelta', () => {
  const before = generatePopulation({ seed: 7, people: 400 });
  const { population: after, changes } = generateDelta(before);

  it('finds every change of the delta in targets that hold the population after it', () => {
    const { directory, phoneList } = targetsOf(after);
    const lines = checkDelta(changes, directory, phoneList);
    expect(lines.map((l) => l.label)).toEqual(['hires', 'rehires', 'leavers', 'moves', 'renames', 'new titles', 'new managers', 'starts', 'membership changes']);
    for (const line of lines) expect(line).toEqual({ label: line.label, expected: line.expected, shown: line.expected, differences: [] });
    expect(lines.find((l) => l.label === 'leavers')?.expected).toBe(changes.summary.leavers);
    expect(lines.find((l) => l.label === 'membership changes')?.expected).toBe(changes.summary.membershipsAdded + changes.summary.membershipsRemoved);
  });

  it('says which changes targets that still hold the population before it do not show', () => {
    const { directory, phoneList } = targetsOf(before);
    const lines = new Map(checkDelta(changes, directory, phoneList).map((l) => [l.label, l]));
    const leavers = lines.get('leavers');
    expect(leavers?.shown).toBe(0);
    expect(leavers?.differences[0]).toMatch(/^E\d+: still in the directory as a/);
    expect(lines.get('hires')?.differences[0]).toMatch(/: no account in the directory$/);
    expect(lines.get('moves')?.differences[0]).toMatch(/: department is ".*", the feed says ".*"$/);
    expect(lines.get('membership changes')?.shown).toBeLessThan(lines.get('membership changes')?.expected ?? 0);
  });
});
