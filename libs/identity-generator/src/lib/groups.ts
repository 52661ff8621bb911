import { compareIds, groupIdOf } from './ids';
import type { Group, Person, PopulationParameters } from './model';
import { RandomStream, STREAM, WeightedPicker, zipfSizes } from './random';

/** Share of a project group's members drawn from its home department: teams cluster, they are not random samples. */
const HOME_DEPARTMENT_SHARE = 0.7;
/** Share of nested-group picks that take a department group rather than another project group. */
const NESTED_DEPARTMENT_SHARE = 0.2;
const MAX_NESTED_PER_GROUP = 3;

export const ALL_STAFF_GROUP_NAME = 'All Staff';
export const LARGE_GROUP_NAME = 'Global Announcements';

export function departmentGroupName(department: string): string {
  return `${department} Department`;
}

export interface GeneratedGroups {
  groups: Group[];
  /** The department group of each department, in the departments' order. */
  departmentGroupIds: string[];
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Hands out names nobody has yet: a repeat gets a number, as admins do ("Falcon Team 2"). */
class UniqueNames {
  private readonly used = new Set<string>();

  take(name: string): string {
    let candidate = name;
    for (let n = 2; this.used.has(candidate); n++) candidate = `${name} ${n}`;
    this.used.add(candidate);
    return candidate;
  }
}

function projectGroupName(random: RandomStream): string {
  const { word } = random.faker;
  switch (random.int(4)) {
    case 0:
      return `Project ${capitalised(word.noun())}`;
    case 1:
      return `${capitalised(word.adjective())} ${capitalised(word.noun())} Team`;
    case 2:
      return `${capitalised(word.noun())} Working Group`;
    default:
      return `${capitalised(word.adjective())} ${capitalised(word.noun())}`;
  }
}

/** Indices of `count` distinct people, most from `home` when the group is small enough to be a team. */
function drawMembers(random: RandomStream, count: number, home: readonly number[], total: number): number[] {
  const target = Math.min(count, total);
  // A group over half the company is no team; a plain sample also keeps the rejection loop below short.
  if (target * 2 > total) return random.sample(total, target);
  const fromHome = Math.min(home.length, Math.round(target * HOME_DEPARTMENT_SHARE));
  const chosen = new Set(random.sample(home.length, fromHome).map((index) => home[index]));
  while (chosen.size < target) chosen.add(random.int(total));
  return [...chosen];
}

function idsOf(indices: readonly number[], people: readonly Person[]): string[] {
  // People are in employeeId order, so index order is id order.
  return [...indices].sort((a, b) => a - b).map((index) => people[index].employeeId);
}

/**
 * All Staff, one group per department, Zipf-sized project groups (some
 * nesting department groups or later project groups, so the nesting is
 * acyclic by construction), and optionally one large group.
 */
export function generateGroups(parameters: PopulationParameters, people: readonly Person[], departments: readonly { name: string }[]): GeneratedGroups {
  const random = new RandomStream([parameters.seed, STREAM.groups]);
  const total = people.length;
  const departmentIndex = new Map(departments.map((department, index) => [department.name, index]));
  const departmentMembers: number[][] = departments.map(() => []);
  people.forEach((person, index) => departmentMembers[departmentIndex.get(person.department) ?? 0].push(index));

  const groups: Group[] = [];
  const names = new UniqueNames();
  const add = (name: string, kind: Group['kind'], members: string[], memberGroups: string[] = []): Group => {
    const group: Group = { groupId: groupIdOf(groups.length + 1), name: names.take(name), kind, members, memberGroups };
    groups.push(group);
    return group;
  };

  if (parameters.allStaffGroup) add(ALL_STAFF_GROUP_NAME, 'all-staff', people.map((person) => person.employeeId));
  const departmentGroupIds = departments.map((department, index) => add(departmentGroupName(department.name), 'department', idsOf(departmentMembers[index], people)).groupId);

  const largeGroup = parameters.largeGroupMembers > 0 ? 1 : 0;
  const projectCount = parameters.groups - groups.length - largeGroup;
  const fixedMemberships = total * ((parameters.allStaffGroup ? 1 : 0) + 1);
  const projectMemberships = Math.max(projectCount, Math.round(total * parameters.membershipsPerPerson) - fixedMemberships);
  const sizes = zipfSizes(projectMemberships, projectCount, parameters.groupSkew);
  // Ranks are shuffled over the ids, so the largest project group is not always the first one.
  const ranks = random.shuffled(sizes.map((_, rank) => rank));
  const homePicker = new WeightedPicker(departmentMembers.map((members) => members.length));
  const firstProject = groups.length;
  for (const rank of ranks) {
    const home = departmentMembers[homePicker.pick(random)];
    add(projectGroupName(random), 'project', idsOf(drawMembers(random, sizes[rank], home, total), people));
  }
  for (let position = 0; position < projectCount; position++) {
    if (!random.chance(parameters.nestedGroupRate)) continue;
    const nested = new Set<string>();
    const later = projectCount - position - 1;
    const wanted = random.between(1, MAX_NESTED_PER_GROUP);
    for (let i = 0; i < wanted; i++) {
      // Only department groups (which nest nothing) and project groups further on: no cycle can form.
      if (later === 0 || random.chance(NESTED_DEPARTMENT_SHARE)) nested.add(random.pick(departmentGroupIds));
      else nested.add(groups[firstProject + position + 1 + random.int(later)].groupId);
    }
    groups[firstProject + position].memberGroups = [...nested].sort(compareIds);
  }

  if (largeGroup) add(LARGE_GROUP_NAME, 'large', idsOf(random.sample(total, parameters.largeGroupMembers), people));
  return { groups, departmentGroupIds };
}
