import { generateDelta, type PersonChange } from './delta';
import { IdentityGeneratorError } from './generator.errors';
import { compareIds } from './ids';
import type { Population } from './model';
import { generatePopulation } from './population';
import { checkManagerTree, checkNestingAcyclic, diffPeople, sha256 } from './testing/checks';

const population = generatePopulation({ seed: 42, people: 10_000, groups: 1000, largeGroupMembers: 4000 });
const frozen = sha256(JSON.stringify(population));
const { population: after, changes } = generateDelta(population);

const byKind = (kind: PersonChange['kind']): PersonChange[] => changes.people.filter((change) => change.kind === kind);

describe('generateDelta: rates', () => {
  it('applies the default churn: 1 % hires (a tenth of them rehires), 1 % leavers, 5 % deliberate modifications', () => {
    expect(changes.summary).toMatchObject({ hires: 90, rehires: 10, leavers: 100, deliberateModifications: 500 });
    expect(byKind('hire')).toHaveLength(90);
    expect(byKind('rehire')).toHaveLength(10);
    expect(byKind('leave')).toHaveLength(100);
    expect(after.people).toHaveLength(10_000);
  });

  it('adds consequences on top of the deliberate modifications, each explained', () => {
    const modifies = byKind('modify');
    const deliberate = modifies.filter((change) => change.kind === 'modify' && change.reasons.some((reason) => ['move', 'rename', 'title', 'manager'].includes(reason)));
    expect(deliberate).toHaveLength(500);
    expect(modifies.length).toBe(changes.summary.modified);
    // Reports of leaving managers: about leavers × span, never more than a few hundred here.
    expect(modifies.length).toBeLessThan(500 + 400);
    const leavers = new Set(byKind('leave').map((change) => change.employeeId));
    for (const change of modifies) {
      if (change.kind !== 'modify') continue;
      if (change.reasons.includes('reports-reassigned')) expect(leavers.has(change.before.manager as string)).toBe(true);
      if (change.reasons.includes('started')) expect(change.before.employmentStatus).toBe('pending');
      if (change.reasons.includes('move')) expect(change.attributes).toEqual(expect.arrayContaining(['department', 'manager']));
      if (change.reasons.includes('rename')) expect(change.attributes).toContain('surname');
      if (change.reasons.includes('title')) expect(change.attributes).toContain('title');
    }
    const reasons = new Set(modifies.flatMap((change) => (change.kind === 'modify' ? change.reasons : [])));
    for (const reason of ['move', 'rename', 'title', 'manager', 'reports-reassigned']) expect(reasons).toContain(reason);
  });

  it('takes every rate from the options', () => {
    const { changes: custom } = generateDelta(population, { hireRate: 0.05, rehireShare: 0, leaverRate: 0.002, modifyRate: 0.1, modifyMix: { rename: 1, move: 0, title: 0, manager: 0 }, membershipChangeRate: 0 });
    expect(custom.summary).toMatchObject({ hires: 500, rehires: 0, leavers: 20, deliberateModifications: 1000 });
    for (const change of custom.people) if (change.kind === 'modify' && !change.reasons.includes('reports-reassigned') && !change.reasons.includes('started')) expect(change.reasons).toEqual(['rename']);
    const quiet = generateDelta(population, { hireRate: 0, leaverRate: 0, modifyRate: 0, membershipChangeRate: 0, largeGroupChanges: 1 });
    expect(quiet.changes.people.filter((change) => change.kind !== 'modify' || !change.reasons.includes('started'))).toEqual([]);
    // The single-membership change in a large group the delta-sync benchmark measures.
    expect(quiet.changes.groups).toHaveLength(1);
    expect(quiet.changes.groups[0].added.length + quiet.changes.groups[0].removed.length).toBe(1);
  });
});

describe('generateDelta: the change list is the oracle', () => {
  it('matches the diff between before and after exactly', () => {
    const diff = diffPeople(population.people, after.people);
    const added = changes.people.filter((change) => change.kind === 'hire' || change.kind === 'rehire').map((change) => change.employeeId);
    expect(added.sort()).toEqual(diff.added);
    expect(byKind('leave').map((change) => change.employeeId).sort()).toEqual(diff.removed);
    const modified = new Map(changes.people.flatMap((change) => (change.kind === 'modify' ? [[change.employeeId, change.attributes] as const] : [])));
    expect(modified).toEqual(diff.modified);
    const afterById = new Map(after.people.map((person) => [person.employeeId, person]));
    const beforeById = new Map(population.people.map((person) => [person.employeeId, person]));
    for (const change of changes.people) {
      if (change.kind === 'leave') expect(change.before).toBe(beforeById.get(change.employeeId));
      else if (change.kind === 'modify') {
        expect(change.before).toBe(beforeById.get(change.employeeId));
        expect(change.after).toEqual(afterById.get(change.employeeId));
      } else expect(change.after).toEqual(afterById.get(change.employeeId));
    }
    expect(changes.people.map((change) => change.employeeId)).toEqual([...changes.people.map((change) => change.employeeId)].sort(compareIds));
  });

  it('matches the group membership diff exactly', () => {
    const beforeGroups = new Map(population.groups.map((group) => [group.groupId, group]));
    const expected = after.groups.flatMap((group) => {
      const old = beforeGroups.get(group.groupId)?.members ?? [];
      const oldSet = new Set(old);
      const nowSet = new Set(group.members);
      const added = group.members.filter((id) => !oldSet.has(id));
      const removed = old.filter((id) => !nowSet.has(id));
      return added.length + removed.length > 0 ? [{ groupId: group.groupId, added, removed }] : [];
    });
    expect(changes.groups).toEqual(expected);
    expect(changes.summary.membershipsAdded).toBe(expected.reduce((sum, change) => sum + change.added.length, 0));
    expect(changes.summary.membershipsRemoved).toBe(expected.reduce((sum, change) => sum + change.removed.length, 0));
  });

  it('gives new hires new ids, rehires their old ones, and keeps leavers as former employees', () => {
    const everSeen = new Set([...population.people, ...population.formerEmployees.map((former) => former.person)].map((person) => person.employeeId));
    for (const change of byKind('hire')) expect(everSeen.has(change.employeeId)).toBe(false);
    const formerIds = new Map(population.formerEmployees.map((former) => [former.person.employeeId, former]));
    for (const change of byKind('rehire')) {
      expect(change.kind === 'rehire' && formerIds.get(change.employeeId)?.leftIn === change.leftIn).toBe(true);
      expect(after.formerEmployees.some((former) => former.person.employeeId === change.employeeId)).toBe(false);
    }
    const left = after.formerEmployees.filter((former) => former.leftIn === 1);
    expect(left.map((former) => former.person.employeeId).sort()).toEqual(byKind('leave').map((change) => change.employeeId).sort());
  });

  it('rehires, in a later delta, people an earlier delta let go', () => {
    const second = generateDelta(after, { rehireShare: 1 });
    const rehires = second.changes.people.filter((change) => change.kind === 'rehire');
    expect(rehires).toHaveLength(100);
    const leftInFirst = rehires.filter((change) => change.kind === 'rehire' && change.leftIn === 1);
    expect(leftInFirst.length).toBeGreaterThan(0);
    const firstLeavers = new Set(byKind('leave').map((change) => change.employeeId));
    for (const change of leftInFirst) expect(firstLeavers.has(change.employeeId)).toBe(true);
    expect(second.population.generation).toBe(2);
    expect(second.population.referenceDate).toBe('2025-01-03');
  });
});

describe('generateDelta: the result is a population like any other', () => {
  const check = (result: Population): void => {
    checkManagerTree(result.people);
    checkNestingAcyclic(result.groups);
    const ids = new Set(result.people.map((person) => person.employeeId));
    expect(ids.size).toBe(result.people.length);
    const byId = new Map(result.people.map((person) => [person.employeeId, person]));
    const heads = new Set(result.departments.map((department) => department.head));
    expect(result.people.filter((person) => !heads.has(person.employeeId) && byId.get(person.manager as string)?.department !== person.department)).toEqual([]);
    for (const group of result.groups) for (const member of group.members) if (!ids.has(member)) throw new Error(`${group.groupId} keeps ${member}, who left`);
    for (const department of result.departments) {
      const group = result.groups.find((candidate) => candidate.groupId === department.groupId);
      expect(group?.members).toEqual(result.people.filter((person) => person.department === department.name).map((person) => person.employeeId));
    }
    expect(result.groups.find((group) => group.kind === 'all-staff')?.members).toEqual(result.people.map((person) => person.employeeId));
  };

  it('keeps the manager tree, the department and All Staff groups, and the nesting intact, over a chain of deltas', () => {
    check(after);
    let current = after;
    for (let i = 0; i < 3; i++) {
      current = generateDelta(current).population;
      check(current);
    }
  });

  it('leaves its input untouched', () => {
    expect(sha256(JSON.stringify(population))).toBe(frozen);
  });

  it('is deterministic, and seeded by the options', () => {
    expect(JSON.stringify(generateDelta(population))).toBe(JSON.stringify({ population: after, changes }));
    expect(JSON.stringify(generateDelta(population, { seed: 43 }).changes)).not.toBe(JSON.stringify(changes));
  });

  it('refuses bad options, naming them', () => {
    expect(() => generateDelta(population, { leaverRate: 2 })).toThrow(IdentityGeneratorError);
    expect(() => generateDelta(population, { leaverRate: 2 })).toThrow(/^leaverRate /);
    expect(() => generateDelta(population, { referenceDate: '2024-12-31' })).toThrow(/^referenceDate /);
    expect(() => generateDelta(population, { modifyMix: { move: 0, rename: 0, title: 0, manager: 0 } })).toThrow(/^modifyMix /);
  });
});
