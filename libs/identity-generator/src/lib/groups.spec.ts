import { ALL_STAFF_GROUP_NAME, LARGE_GROUP_NAME } from './groups';
import { compareIds } from './ids';
import { generatePopulation } from './population';
import { checkNestingAcyclic, median } from './testing/checks';

describe('generatePopulation: groups', () => {
  const population = generatePopulation({ seed: 42, people: 10_000, groups: 1000 });
  const { groups, people } = population;
  const ids = new Set(people.map((person) => person.employeeId));
  const memberships = groups.reduce((sum, group) => sum + group.members.length, 0);

  it('makes the requested number of groups with unique ids and names', () => {
    expect(groups).toHaveLength(1000);
    expect(new Set(groups.map((group) => group.groupId)).size).toBe(1000);
    expect(new Set(groups.map((group) => group.name)).size).toBe(1000);
    expect([...groups].sort((a, b) => compareIds(a.groupId, b.groupId))).toEqual(groups);
  });

  it('gives about three direct memberships per person, all of existing people, sorted and without repeats', () => {
    expect(memberships / people.length).toBeGreaterThan(2.9);
    expect(memberships / people.length).toBeLessThan(3.1);
    for (const group of groups) {
      expect(new Set(group.members).size).toBe(group.members.length);
      expect([...group.members].sort(compareIds)).toEqual(group.members);
      for (const member of group.members) if (!ids.has(member)) throw new Error(`${group.groupId} holds unknown member ${member}`);
    }
  });

  it('has All Staff with everyone, and department groups that hold exactly their department', () => {
    const allStaff = groups.find((group) => group.kind === 'all-staff');
    expect(allStaff?.name).toBe(ALL_STAFF_GROUP_NAME);
    expect(allStaff?.members).toHaveLength(people.length);
    for (const department of population.departments) {
      const group = groups.find((candidate) => candidate.groupId === department.groupId);
      expect(group?.kind).toBe('department');
      expect(group?.members).toEqual(people.filter((person) => person.department === department.name).map((person) => person.employeeId));
    }
  });

  it('makes project group sizes Zipf-skewed, and clusters members in a home department', () => {
    const projects = groups.filter((group) => group.kind === 'project');
    const sizes = projects.map((group) => group.members.length);
    expect(Math.max(...sizes)).toBeGreaterThan(20 * median(sizes));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    const departmentOf = new Map(people.map((person) => [person.employeeId, person.department]));
    const midSized = projects.filter((group) => group.members.length >= 20 && group.members.length <= 200);
    expect(midSized.length).toBeGreaterThan(10);
    for (const group of midSized) {
      const counts = new Map<string, number>();
      for (const member of group.members) counts.set(departmentOf.get(member) as string, (counts.get(departmentOf.get(member) as string) ?? 0) + 1);
      // 70 % come from the home department, unless it is smaller than that.
      const top = Math.max(...counts.values());
      expect(top / group.members.length).toBeGreaterThan(0.3);
    }
  });

  it('nests groups at the configured rate, only existing ones, without cycles', () => {
    const nesting = groups.filter((group) => group.memberGroups.length > 0);
    const projects = groups.filter((group) => group.kind === 'project').length;
    expect(nesting.length / projects).toBeGreaterThan(0.03);
    expect(nesting.length / projects).toBeLessThan(0.07);
    for (const group of nesting) expect(group.kind).toBe('project');
    checkNestingAcyclic(groups);
    const many = generatePopulation({ seed: 3, people: 2000, groups: 300, nestedGroupRate: 1 });
    expect(many.groups.filter((group) => group.memberGroups.length > 0).length).toBeGreaterThan(250);
    checkNestingAcyclic(many.groups);
  });

  it('adds one large group of exactly the requested size when asked', () => {
    const withLarge = generatePopulation({ seed: 42, people: 5000, largeGroupMembers: 3000 });
    const large = withLarge.groups.filter((group) => group.kind === 'large');
    expect(large).toHaveLength(1);
    expect(large[0].name).toBe(LARGE_GROUP_NAME);
    expect(large[0].members).toHaveLength(3000);
    expect(new Set(large[0].members).size).toBe(3000);
    expect(groups.some((group) => group.kind === 'large')).toBe(false);
  });

  it('can leave All Staff out', () => {
    const without = generatePopulation({ seed: 42, people: 1000, allStaffGroup: false });
    expect(without.groups.some((group) => group.kind === 'all-staff')).toBe(false);
    const total = without.groups.reduce((sum, group) => sum + group.members.length, 0);
    expect(total / 1000).toBeGreaterThan(2.9);
  });
});
