import { invalidParameter } from './generator.errors';
import { byEmployeeId, compareIds, dayNumber, employeeIdOf, isoDay, personRecord } from './ids';
import { PERSON_ATTRIBUTES, type FormerEmployee, type Group, type Person, type PersonAttribute, type Population } from './model';
import { newSurname, type PersonName } from './names';
import { rate } from './population-options';
import { RandomStream, STREAM, WeightedPicker } from './random';
import { NameSource, officeFor } from './workforce';

/** The kinds of deliberate modification a delta makes; each modified person gets one. */
export type ModifyKind = 'move' | 'rename' | 'title' | 'manager';

/**
 * Why a person changed: a deliberate modification, or a consequence —
 * `reports-reassigned` when their manager left, `started` when a pending
 * hire's start date arrived.
 */
export type ModifyReason = ModifyKind | 'reports-reassigned' | 'started';

/** How much a delta changes. Rates are shares of the population's head count before the delta. */
export interface DeltaOptions {
  /** Seeds this delta together with the population's generation. @default the population's seed */
  seed?: number;
  /** The delta's "today"; not before the population's. @default the day after the population's reference date */
  referenceDate?: string;
  /** Share of people added, rehires included. @default 0.01 */
  hireRate?: number;
  /** Share of those additions that rehire a former employee under their old employeeId. @default 0.1 */
  rehireShare?: number;
  /** Share of people who leave. Department heads and the CEO stay. @default 0.01 */
  leaverRate?: number;
  /** Share of people deliberately modified, one kind each; consequences (reassigned reports, starts) come on top. @default 0.05 */
  modifyRate?: number;
  /** Relative weights of the modification kinds. Moves and manager changes go to people without reports only. @default { move: 0.3, rename: 0.15, title: 0.3, manager: 0.25 } */
  modifyMix?: Partial<Record<ModifyKind, number>>;
  /** Project group memberships added or removed, as a share of people (half each). @default 0.01 */
  membershipChangeRate?: number;
  /** Memberships of the `large` group added or removed on top (half each), e.g. 1 for the single-change benchmark. @default 0 */
  largeGroupChanges?: number;
}

export type PersonChange =
  | { kind: 'hire'; employeeId: string; after: Person }
  | { kind: 'rehire'; employeeId: string; after: Person; /** The generation in which they had left. */ leftIn: number }
  | { kind: 'leave'; employeeId: string; before: Person }
  | { kind: 'modify'; employeeId: string; reasons: ModifyReason[]; attributes: PersonAttribute[]; before: Person; after: Person };

/** The direct person members a group gained and lost, in ascending employeeId order. */
export interface GroupChange {
  groupId: string;
  added: string[];
  removed: string[];
}

export interface DeltaSummary {
  hires: number;
  rehires: number;
  leavers: number;
  /** People with a `modify` change, consequences included. */
  modified: number;
  /** Deliberate modifications: round(people × modifyRate). */
  deliberateModifications: number;
  groupsChanged: number;
  membershipsAdded: number;
  membershipsRemoved: number;
}

/** What a delta changed: the oracle a test compares the engine's operations with. */
export interface DeltaChanges {
  /** One entry per changed employeeId, in ascending employeeId order. */
  people: PersonChange[];
  /** One entry per group whose direct person members changed, in ascending groupId order. */
  groups: GroupChange[];
  summary: DeltaSummary;
}

export interface Delta {
  population: Population;
  changes: DeltaChanges;
}

const DEFAULT_MIX: Record<ModifyKind, number> = { move: 0.3, rename: 0.15, title: 0.3, manager: 0.25 };
const MODIFY_KINDS: readonly ModifyKind[] = ['move', 'rename', 'title', 'manager'];
/** Share of new hires whose start date is still ahead, as HR feeds announce starters early. */
const NEW_HIRE_PENDING_SHARE = 0.3;
const PENDING_WINDOW_DAYS = 30;
/** New hires and rehires started within the last week. */
const RECENT_START_DAYS = 6;

interface ResolvedDeltaOptions {
  seed: number;
  referenceDay: number;
  hireRate: number;
  rehireShare: number;
  leaverRate: number;
  modifyRate: number;
  mix: Record<ModifyKind, number>;
  membershipChangeRate: number;
  largeGroupChanges: number;
}

function resolveDeltaOptions(population: Population, options: DeltaOptions): ResolvedDeltaOptions {
  const seed = options.seed ?? population.parameters.seed;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw invalidParameter('seed', `must be an integer from 0 to 4294967295, got ${seed}`);
  const previousDay = dayNumber(population.referenceDate);
  const referenceDay = options.referenceDate === undefined ? previousDay + 1 : dayNumber(options.referenceDate);
  if (referenceDay < previousDay) throw invalidParameter('referenceDate', `must not be before the population's (${population.referenceDate}), got ${options.referenceDate}`);
  const mix = { ...DEFAULT_MIX, ...options.modifyMix };
  for (const kind of MODIFY_KINDS) if (!(mix[kind] >= 0 && Number.isFinite(mix[kind]))) throw invalidParameter(`modifyMix.${kind}`, `must be a weight of 0 or more, got ${mix[kind]}`);
  if (MODIFY_KINDS.every((kind) => mix[kind] === 0)) throw invalidParameter('modifyMix', 'must give at least one kind a weight above 0');
  const largeGroupChanges = options.largeGroupChanges ?? 0;
  if (!Number.isSafeInteger(largeGroupChanges) || largeGroupChanges < 0) throw invalidParameter('largeGroupChanges', `must be an integer of 0 or more, got ${largeGroupChanges}`);
  return {
    seed,
    referenceDay,
    hireRate: rate('hireRate', options.hireRate ?? 0.01),
    rehireShare: rate('rehireShare', options.rehireShare ?? 0.1),
    leaverRate: rate('leaverRate', options.leaverRate ?? 0.01),
    modifyRate: rate('modifyRate', options.modifyRate ?? 0.05),
    mix,
    membershipChangeRate: rate('membershipChangeRate', options.membershipChangeRate ?? 0.01),
    largeGroupChanges,
  };
}

/** The attributes whose values differ, in model order. */
export function changedAttributes(before: Person, after: Person): PersonAttribute[] {
  return PERSON_ATTRIBUTES.filter((attribute) => before[attribute] !== after[attribute]);
}

/**
 * The population after one delta — hires, rehires, leavers, modifications and
 * group membership changes — and the list of what changed. The input is left
 * as it was; unchanged people and groups are shared with the result.
 */
export function generateDelta(population: Population, options: DeltaOptions = {}): Delta {
  const resolved = resolveDeltaOptions(population, options);
  const generation = population.generation + 1;
  const random = new RandomStream([resolved.seed, STREAM.delta, generation]);
  const names = new NameSource(random, population.parameters);
  const headCount = population.people.length;
  const before = new Map(population.people.map((person) => [person.employeeId, person]));
  const current = new Map(before);
  const heads = new Set(population.departments.map((department) => department.head));
  const reports = new Map<string, Set<string>>();
  const reportsOf = (id: string): Set<string> => {
    let set = reports.get(id);
    if (!set) reports.set(id, (set = new Set()));
    return set;
  };
  for (const person of population.people) if (person.manager !== undefined) reportsOf(person.manager).add(person.employeeId);

  const reasons = new Map<string, Set<ModifyReason>>();
  const update = (id: string, patch: Partial<Person>, reason: ModifyReason): void => {
    const person = current.get(id) as Person;
    if (patch.manager !== undefined && patch.manager !== person.manager) {
      if (person.manager !== undefined) reports.get(person.manager)?.delete(id);
      reportsOf(patch.manager).add(id);
    }
    current.set(id, personRecord({ ...person, ...patch }));
    let set = reasons.get(id);
    if (!set) reasons.set(id, (set = new Set()));
    set.add(reason);
  };

  // Leavers. Heads stay, so every chain of managers still ends at the CEO.
  const leaverCandidates = population.people.filter((person) => !heads.has(person.employeeId)).map((person) => person.employeeId);
  const leaverCount = Math.min(leaverCandidates.length, Math.round(headCount * resolved.leaverRate));
  const leavers = random
    .sample(leaverCandidates.length, leaverCount)
    .sort((a, b) => a - b)
    .map((index) => leaverCandidates[index]);
  const leaving = new Set(leavers);
  for (const id of leavers) {
    current.delete(id);
    reports.get((before.get(id) as Person).manager as string)?.delete(id);
  }
  for (const id of leavers) {
    let successor = (before.get(id) as Person).manager as string;
    while (leaving.has(successor)) successor = (before.get(successor) as Person).manager as string;
    for (const report of [...(reports.get(id) ?? [])].sort(compareIds)) {
      if (!leaving.has(report)) update(report, { manager: successor }, 'reports-reassigned');
    }
    reports.delete(id);
  }

  // Pending hires whose start date has come.
  for (const person of current.values()) {
    if (person.employmentStatus === 'pending' && dayNumber(person.hireDate, 'hireDate') <= resolved.referenceDay) {
      update(person.employeeId, { employmentStatus: 'active' }, 'started');
    }
  }

  // Who can take reports, per department: today's managers and the head.
  const departmentNames = population.departments.map((department) => department.name);
  const departmentSizes = new Map(departmentNames.map((name) => [name, 0]));
  const managers = new Map(population.departments.map((department) => [department.name, [department.head]]));
  for (const person of current.values()) {
    departmentSizes.set(person.department, (departmentSizes.get(person.department) ?? 0) + 1);
    if (!heads.has(person.employeeId) && (reports.get(person.employeeId)?.size ?? 0) > 0) managers.get(person.department)?.push(person.employeeId);
  }
  const departmentPicker = new WeightedPicker(departmentNames.map((name) => departmentSizes.get(name) ?? 0));
  const managerIn = (department: string, except: readonly (string | undefined)[] = []): string | undefined => {
    const candidates = (managers.get(department) ?? []).filter((id) => !except.includes(id));
    return candidates.length > 0 ? random.pick(candidates) : undefined;
  };

  // Deliberate modifications, one kind each.
  const ceo = population.people.find((person) => person.manager === undefined)?.employeeId;
  const modifyCandidates = [...current.keys()].filter((id) => id !== ceo);
  const modifyCount = Math.min(modifyCandidates.length, Math.round(headCount * resolved.modifyRate));
  const modified = random
    .sample(modifyCandidates.length, modifyCount)
    .sort((a, b) => a - b)
    .map((index) => modifyCandidates[index]);
  const moves: { id: string; from: string; to: string }[] = [];
  for (const id of modified) {
    const person = current.get(id) as Person;
    // Only people without reports move or change manager: their subtree is empty, so no cycle can form.
    const individual = !heads.has(id) && (reports.get(id)?.size ?? 0) === 0;
    const newManager = individual ? managerIn(person.department, [person.manager, id]) : undefined;
    const applicable = MODIFY_KINDS.filter((kind) => {
      if (kind === 'move') return individual && departmentNames.length > 1;
      if (kind === 'manager') return individual && newManager !== undefined;
      return true;
    });
    const weights = applicable.map((kind) => resolved.mix[kind]);
    const kind = weights.some((weight) => weight > 0) ? applicable[new WeightedPicker(weights).pick(random)] : 'title';
    switch (kind) {
      case 'move': {
        let department = person.department;
        while (department === person.department) department = departmentNames[departmentPicker.pick(random)];
        moves.push({ id, from: person.department, to: department });
        update(id, { department, manager: managerIn(department, [id]) }, 'move');
        break;
      }
      case 'rename':
        update(id, { surname: newSurname(random, person.surname) }, 'rename');
        break;
      case 'title':
        update(id, { title: promotedTitle(random, person.title) }, 'title');
        break;
      case 'manager':
        update(id, { manager: newManager }, 'manager');
        break;
    }
  }

  // Hires: rehires of former employees under their old id, and new people with new ids.
  const hireCount = Math.round(headCount * resolved.hireRate);
  const pool = population.formerEmployees;
  const rehireCount = Math.min(pool.length, Math.round(hireCount * resolved.rehireShare));
  const rehired = new Set(random.sample(pool.length, rehireCount));
  const recentDay = (): string => isoDay(resolved.referenceDay - random.between(0, RECENT_START_DAYS));
  const rehires: PersonChange[] = [];
  const joiners: Person[] = [];
  pool.forEach((former, index) => {
    if (!rehired.has(index)) return;
    const department = managers.has(former.person.department) ? former.person.department : departmentNames[departmentPicker.pick(random)];
    const person = personRecord({ ...former.person, department, manager: managerIn(department), hireDate: recentDay(), employmentStatus: 'active' });
    joiners.push(person);
    rehires.push({ kind: 'rehire', employeeId: person.employeeId, after: person, leftIn: former.leftIn });
  });
  const earlierNames: PersonName[] = [...current.values()];
  let nextEmployeeNumber = population.nextEmployeeNumber;
  const hires: PersonChange[] = [];
  for (let i = rehireCount; i < hireCount; i++) {
    const department = departmentNames[departmentPicker.pick(random)];
    const manager = managerIn(department) as string;
    const name = names.name(earlierNames);
    earlierNames.push(name);
    const location = officeFor(random, (current.get(manager) as Person).location);
    const pending = random.chance(NEW_HIRE_PENDING_SHARE);
    const person = personRecord({
      employeeId: employeeIdOf(nextEmployeeNumber++),
      givenName: name.givenName,
      surname: name.surname,
      preferredName: names.preferredName(name.givenName),
      department,
      title: random.faker.person.jobTitle(),
      manager,
      location,
      hireDate: pending ? isoDay(resolved.referenceDay + random.between(1, PENDING_WINDOW_DAYS)) : recentDay(),
      employmentStatus: pending ? 'pending' : 'active',
      mobile: names.mobile(location),
    });
    joiners.push(person);
    hires.push({ kind: 'hire', employeeId: person.employeeId, after: person });
  }
  for (const person of joiners) current.set(person.employeeId, person);

  const groupResult = changeGroups(population, resolved, random, { leavers, moves, joiners, current });

  const people: PersonChange[] = [...hires, ...rehires, ...leavers.map((id): PersonChange => ({ kind: 'leave', employeeId: id, before: before.get(id) as Person }))];
  for (const [id, why] of reasons) {
    if (leaving.has(id)) continue;
    const was = before.get(id) as Person;
    const now = current.get(id) as Person;
    const attributes = changedAttributes(was, now);
    if (attributes.length > 0) people.push({ kind: 'modify', employeeId: id, reasons: [...why].sort(), attributes, before: was, after: now });
  }
  people.sort(byEmployeeId);

  const formerEmployees: FormerEmployee[] = [
    ...pool.filter((_, index) => !rehired.has(index)),
    ...leavers.map((id) => ({ person: before.get(id) as Person, leftIn: generation })),
  ].sort((a, b) => byEmployeeId(a.person, b.person));

  return {
    population: {
      parameters: population.parameters,
      generation,
      referenceDate: isoDay(resolved.referenceDay),
      people: [...current.values()].sort(byEmployeeId),
      departments: population.departments,
      groups: groupResult.groups,
      formerEmployees,
      nextEmployeeNumber,
    },
    changes: {
      people,
      groups: groupResult.changes,
      summary: {
        hires: hires.length,
        rehires: rehires.length,
        leavers: leavers.length,
        modified: people.filter((change) => change.kind === 'modify').length,
        deliberateModifications: modified.length,
        groupsChanged: groupResult.changes.length,
        membershipsAdded: groupResult.changes.reduce((sum, change) => sum + change.added.length, 0),
        membershipsRemoved: groupResult.changes.reduce((sum, change) => sum + change.removed.length, 0),
      },
    },
  };
}

/** A promotion: "Senior " in front, or a new job for someone already senior. */
function promotedTitle(random: RandomStream, title: string): string {
  if (!title.startsWith('Senior ')) return `Senior ${title}`;
  for (;;) {
    const candidate = random.faker.person.jobTitle();
    if (candidate !== title) return candidate;
  }
}

interface PeopleMovements {
  leavers: readonly string[];
  moves: readonly { id: string; from: string; to: string }[];
  joiners: readonly Person[];
  current: ReadonlyMap<string, Person>;
}

/** Bounded retries for a random membership pick that lands on one already made. */
const PICK_ATTEMPTS = 20;

function changeGroups(population: Population, options: ResolvedDeltaOptions, random: RandomStream, movements: PeopleMovements): { groups: Group[]; changes: GroupChange[] } {
  const { groups } = population;
  const index = new Map(groups.map((group, position) => [group.groupId, position]));
  const edited = new Map<number, Set<string>>();
  const membersOf = (position: number): Set<string> => {
    let members = edited.get(position);
    if (!members) edited.set(position, (members = new Set(groups[position].members)));
    return members;
  };
  const departmentGroup = new Map(population.departments.map((department) => [department.name, index.get(department.groupId) as number]));
  const allStaff = groups.findIndex((group) => group.kind === 'all-staff');
  const large = groups.findIndex((group) => group.kind === 'large');
  const projects = groups.map((group, position) => (group.kind === 'project' ? position : -1)).filter((position) => position >= 0);
  const projectPicker = new WeightedPicker(projects.map((position) => groups[position].members.length));
  const pickProject = (): number | undefined => (projects.length > 0 ? projects[projectPicker.pick(random)] : undefined);

  if (movements.leavers.length > 0) {
    const leaving = new Set(movements.leavers);
    groups.forEach((group, position) => {
      for (const id of group.members) if (leaving.has(id)) membersOf(position).delete(id);
    });
  }
  for (const move of movements.moves) {
    membersOf(departmentGroup.get(move.from) as number).delete(move.id);
    membersOf(departmentGroup.get(move.to) as number).add(move.id);
  }
  const { membershipsPerPerson, allStaffGroup } = population.parameters;
  const projectShare = Math.max(0, membershipsPerPerson - 1 - (allStaffGroup ? 1 : 0));
  for (const person of movements.joiners) {
    if (allStaff >= 0) membersOf(allStaff).add(person.employeeId);
    membersOf(departmentGroup.get(person.department) as number).add(person.employeeId);
    const projectCount = Math.floor(projectShare) + (random.chance(projectShare - Math.floor(projectShare)) ? 1 : 0);
    for (let i = 0; i < projectCount; i++) {
      const position = pickProject();
      if (position !== undefined) membersOf(position).add(person.employeeId);
    }
  }

  const everyone = [...movements.current.keys()];
  const churn = (count: number, pick: () => number | undefined): void => {
    const removals = Math.floor(count / 2);
    for (let i = 0; i < removals; i++) {
      const position = pick();
      if (position === undefined) break;
      const members = membersOf(position);
      const original = groups[position].members;
      // A group is never emptied by churn: an empty project group reads as a deleted one to some targets.
      if (members.size <= 1 || original.length === 0) continue;
      for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
        const id = original[random.int(original.length)];
        if (members.delete(id)) break;
      }
    }
    for (let i = removals; i < count; i++) {
      const position = pick();
      if (position === undefined || everyone.length === 0) break;
      const members = membersOf(position);
      for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
        const id = everyone[random.int(everyone.length)];
        if (!members.has(id)) {
          members.add(id);
          break;
        }
      }
    }
  };
  churn(Math.round(population.people.length * options.membershipChangeRate), pickProject);
  if (large >= 0) churn(options.largeGroupChanges, () => large);

  const result = [...groups];
  const changes: GroupChange[] = [];
  for (const [position, members] of [...edited].sort((a, b) => a[0] - b[0])) {
    const group = groups[position];
    const old = new Set(group.members);
    const added = [...members].filter((id) => !old.has(id)).sort(compareIds);
    const removed = group.members.filter((id) => !members.has(id));
    if (added.length === 0 && removed.length === 0) continue;
    result[position] = { ...group, members: [...members].sort(compareIds) };
    changes.push({ groupId: group.groupId, added, removed });
  }
  return { groups: result, changes };
}
