/** `pending`: hired, with a start date after the reference date. */
export type EmploymentStatus = 'active' | 'on-leave' | 'pending';

/** One row of the HR feed. Property order is fixed: it is the order of the JSON-lines output. */
export interface Person {
  /** The anchor: immutable, never reused for someone else (a rehire gets their old one back). `E000123`. */
  employeeId: string;
  givenName: string;
  surname: string;
  /** The name someone goes by, when it differs from the given name. */
  preferredName?: string;
  department: string;
  title: string;
  /** The manager's employeeId; absent for the CEO only. */
  manager?: string;
  location: string;
  /** `YYYY-MM-DD`, no zone (the CSV connector reads it as UTC). */
  hireDate: string;
  employmentStatus: EmploymentStatus;
  /** E.164, `+447700900123`. */
  mobile: string;
}

/** The person attributes a change can touch, in output order. */
export const PERSON_ATTRIBUTES = [
  'givenName',
  'surname',
  'preferredName',
  'department',
  'title',
  'manager',
  'location',
  'hireDate',
  'employmentStatus',
  'mobile',
] as const satisfies readonly (keyof Person)[];
export type PersonAttribute = (typeof PERSON_ATTRIBUTES)[number];

export interface Department {
  name: string;
  /** The department head's employeeId; the CEO heads the Executive Office. */
  head: string;
  /** The department's group (kind `department`), whose members follow the department. */
  groupId: string;
}

/**
 * `all-staff`: everyone; `department`: one per department, members follow
 * moves; `project`: Zipf-sized, drawn mostly from one home department, the
 * only kind that nests other groups; `large`: one group of a fixed member
 * count for the single-member-change-in-a-huge-group benchmark.
 */
export type GroupKind = 'all-staff' | 'department' | 'project' | 'large';

export interface Group {
  /** The anchor. `G000042`. */
  groupId: string;
  name: string;
  kind: GroupKind;
  /** Direct person members, employeeIds in ascending order. */
  members: string[];
  /** Nested groups, groupIds in ascending order; the nesting has no cycles. */
  memberGroups: string[];
}

/** Someone who left: not in the feed, their employeeId kept for a rehire. */
export interface FormerEmployee {
  person: Person;
  /** The population generation in which they left; 0: before the first snapshot, so no feed ever held them. */
  leftIn: number;
}

/** The resolved parameters of a population: every option with its default applied. */
export interface PopulationParameters {
  seed: number;
  people: number;
  referenceDate: string;
  departments: number;
  departmentSkew: number;
  spanOfControl: number;
  duplicateNameRate: number;
  internationalNameRate: number;
  preferredNameRate: number;
  onLeaveRate: number;
  pendingRate: number;
  formerEmployeeRate: number;
  groups: number;
  membershipsPerPerson: number;
  groupSkew: number;
  nestedGroupRate: number;
  allStaffGroup: boolean;
  largeGroupMembers: number;
}

/**
 * A generated directory of people and groups at one point in time. Plain data,
 * never mutated: a delta returns a new population that shares the unchanged
 * objects with the old one.
 */
export interface Population {
  parameters: PopulationParameters;
  /** 0 for a generated population, n for the n-th delta of it. */
  generation: number;
  /** The population's "today", `YYYY-MM-DD`. */
  referenceDate: string;
  /** In ascending employeeId order. */
  people: Person[];
  /** Largest first. */
  departments: Department[];
  /** In ascending groupId order. */
  groups: Group[];
  /** In ascending employeeId order. */
  formerEmployees: FormerEmployee[];
  /** The number of the next new employeeId; ids are never reused. */
  nextEmployeeNumber: number;
}
