import { invalidParameter } from './generator.errors';
import { dayNumber } from './ids';
import type { PopulationParameters } from './model';

/** What to generate. Everything but `seed` has a default; the same options always give the same population. */
export interface PopulationOptions {
  /** Any integer in [0, 2³²): the same seed and options give the same population, byte for byte. */
  seed: number;
  /** How many people the feed holds. @default 1000 */
  people?: number;
  /** The population's "today" (`YYYY-MM-DD`): hire dates lie before it, pending starts after. @default '2025-01-01' */
  referenceDate?: string;
  /** How many departments, Executive Office included. @default round(√people / 2), at least 1 */
  departments?: number;
  /** Zipf exponent of department sizes: 0 makes them equal, larger values more skewed. @default 1 */
  departmentSkew?: number;
  /** Average direct reports per manager. @default 6 */
  spanOfControl?: number;
  /** Share of people who repeat an earlier person's given name and surname, to force unique-value collisions. @default 0.02 */
  duplicateNameRate?: number;
  /** Share of people whose name has diacritics (José Núñez, Łucja Wróbel) or an apostrophe (O'Brien). @default 0.05 */
  internationalNameRate?: number;
  /** Share of people with a preferred name. @default 0.1 */
  preferredNameRate?: number;
  /** Share of people on leave. @default 0.02 */
  onLeaveRate?: number;
  /** Share of individual contributors hired but not started yet (hire date after `referenceDate`). @default 0.01 */
  pendingRate?: number;
  /** Former employees (not in the feed) per person, whose ids deltas can rehire. @default 0.01 */
  formerEmployeeRate?: number;
  /** How many groups in all: All Staff, one per department, the large group if any, and project groups for the rest. @default round(people / 10), and at least one project group */
  groups?: number;
  /** Direct person memberships per person, All Staff and department groups included. @default 3 */
  membershipsPerPerson?: number;
  /** Zipf exponent of project group sizes. @default 1 */
  groupSkew?: number;
  /** Share of project groups that have nested groups as members. @default 0.05 */
  nestedGroupRate?: number;
  /** An "All Staff" group whose direct members are everyone. @default true */
  allStaffGroup?: boolean;
  /** Members of one extra `large` group (the 50k-member group of the delta-sync benchmark); 0 for none. @default 0 */
  largeGroupMembers?: number;
}

const MAX_SEED = 2 ** 32 - 1;

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalidParameter(name, `must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function number(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw invalidParameter(name, `must be a number from ${min} to ${max}, got ${value}`);
  return value;
}

export function rate(name: string, value: number): number {
  return number(name, value, 0, 1);
}

/** Applies the defaults and refuses values out of range, naming the option. */
export function resolvePopulationParameters(options: PopulationOptions): PopulationParameters {
  const seed = integer('seed', options.seed, 0, MAX_SEED);
  const people = integer('people', options.people ?? 1000, 1, 10_000_000);
  const referenceDate = options.referenceDate ?? '2025-01-01';
  dayNumber(referenceDate);
  const departments = integer('departments', options.departments ?? Math.max(1, Math.round(Math.sqrt(people) / 2)), 1, people);
  const allStaffGroup = options.allStaffGroup ?? true;
  const largeGroupMembers = integer('largeGroupMembers', options.largeGroupMembers ?? 0, 0, people);
  const fixedGroups = departments + (allStaffGroup ? 1 : 0) + (largeGroupMembers > 0 ? 1 : 0);
  const groups = integer('groups', options.groups ?? Math.max(Math.round(people / 10), fixedGroups + 1), fixedGroups, 10_000_000);
  return {
    seed,
    people,
    referenceDate,
    departments,
    departmentSkew: number('departmentSkew', options.departmentSkew ?? 1, 0, 10),
    spanOfControl: integer('spanOfControl', options.spanOfControl ?? 6, 1, 10_000),
    duplicateNameRate: rate('duplicateNameRate', options.duplicateNameRate ?? 0.02),
    internationalNameRate: rate('internationalNameRate', options.internationalNameRate ?? 0.05),
    preferredNameRate: rate('preferredNameRate', options.preferredNameRate ?? 0.1),
    onLeaveRate: rate('onLeaveRate', options.onLeaveRate ?? 0.02),
    pendingRate: rate('pendingRate', options.pendingRate ?? 0.01),
    formerEmployeeRate: rate('formerEmployeeRate', options.formerEmployeeRate ?? 0.01),
    groups,
    membershipsPerPerson: number('membershipsPerPerson', options.membershipsPerPerson ?? 3, 0, 1_000),
    groupSkew: number('groupSkew', options.groupSkew ?? 1, 0, 10),
    nestedGroupRate: rate('nestedGroupRate', options.nestedGroupRate ?? 0.05),
    allStaffGroup,
    largeGroupMembers,
  };
}
