import { byEmployeeId, dayNumber, employeeIdOf, isoDay, personRecord } from './ids';
import type { EmploymentStatus, FormerEmployee, Person, PopulationParameters } from './model';
import { internationalName, plainName, preferredNameFor, type PersonName } from './names';
import { RandomStream, STREAM, WeightedPicker, zipfSizes } from './random';
import { DEPARTMENT_NAMES, EXECUTIVE_OFFICE, OFFICES, REGIONS } from './reference-data';

/** The people side of a population, before groups. */
export interface Workforce {
  people: Person[];
  departments: { name: string; head: string }[];
  formerEmployees: FormerEmployee[];
  nextEmployeeNumber: number;
}

/** Hire dates of current staff spread over this many years before the reference date. */
const TENURE_YEARS = 20;
/** Pending starts lie up to this many days after the reference date. */
const PENDING_WINDOW_DAYS = 30;
/** Share of a department that works at its main office; the rest is spread over all offices. */
const HOME_OFFICE_SHARE = 0.6;

/** `count` distinct department names; the last is always the Executive Office. */
function departmentNames(count: number, random: RandomStream): string[] {
  const bases = random.shuffled(DEPARTMENT_NAMES);
  const names = [...bases];
  for (const region of REGIONS) for (const base of bases) names.push(`${base} ${region}`);
  for (let n = 2; names.length < count - 1; n++) for (const base of bases) names.push(`${base} ${n}`);
  return [...names.slice(0, count - 1), EXECUTIVE_OFFICE];
}

const officePicker = new WeightedPicker(OFFICES.map((_, rank) => 1 / (rank + 1)));

/** Draws names, honouring the duplicate and international rates. */
export class NameSource {
  constructor(
    private readonly random: RandomStream,
    private readonly parameters: Pick<PopulationParameters, 'duplicateNameRate' | 'internationalNameRate' | 'preferredNameRate'>,
  ) {}

  /** A new person's name; `earlier` are the names a duplicate may repeat. */
  name(earlier: readonly PersonName[]): PersonName {
    if (earlier.length > 0 && this.random.chance(this.parameters.duplicateNameRate)) {
      const { givenName, surname } = earlier[this.random.int(earlier.length)];
      return { givenName, surname };
    }
    return this.random.chance(this.parameters.internationalNameRate) ? internationalName(this.random) : plainName(this.random);
  }

  preferredName(givenName: string): string | undefined {
    return this.random.chance(this.parameters.preferredNameRate) ? preferredNameFor(this.random, givenName) : undefined;
  }

  mobile(location: string): string {
    const office = OFFICES.find((candidate) => candidate.name === location) ?? OFFICES[0];
    const prefix = this.random.pick(office.mobilePrefixes);
    let digits = '';
    for (let i = prefix.length; i < office.digits; i++) digits += String(this.random.int(10));
    return `+${office.callingCode}${prefix}${digits}`;
  }
}

export function officeFor(random: RandomStream, homeOffice: string): string {
  return random.chance(HOME_OFFICE_SHARE) ? homeOffice : OFFICES[officePicker.pick(random)].name;
}

/** Someone's title from where they sit in the tree. */
export function titleFor(random: RandomStream, department: string, level: number, hasReports: boolean): string {
  if (level === 0) return department === EXECUTIVE_OFFICE ? 'Chief Executive Officer' : `VP, ${department}`;
  if (hasReports) return level === 1 ? `Director, ${department}` : `Manager, ${department}`;
  return random.faker.person.jobTitle();
}

interface Draft {
  name: PersonName;
  department: number;
  /** Index of the manager's draft; -1 for the CEO. */
  manager: number;
  level: number;
  hasReports: boolean;
  hireDay: number;
  status: EmploymentStatus;
  location: string;
}

/**
 * People in departments of Zipf sizes, each department a tree under its
 * head, the heads under the CEO; employeeIds numbered in hire-date order as an
 * HR system hands them out, former employees' ids among them.
 */
export function generateWorkforce(parameters: PopulationParameters): Workforce {
  const personal = new RandomStream([parameters.seed, STREAM.people]);
  const structure = new RandomStream([parameters.seed, STREAM.structure]);
  const names = new NameSource(personal, parameters);
  const referenceDay = dayNumber(parameters.referenceDate);
  const count = parameters.people;
  const departmentCount = Math.min(parameters.departments, count);
  const sizes = zipfSizes(count, departmentCount, parameters.departmentSkew);
  const departmentList = departmentNames(departmentCount, structure);
  const homeOffices = departmentList.map(() => OFFICES[officePicker.pick(structure)].name);

  const drafts: Draft[] = [];
  const starts: number[] = [];
  // The Executive Office is the last (smallest) block; its first member is the CEO.
  const ceo = count - sizes[departmentCount - 1];
  for (let department = 0; department < departmentCount; department++) {
    const start = drafts.length;
    starts.push(start);
    for (let i = 0; i < sizes[department]; i++) {
      drafts.push({
        name: { givenName: '', surname: '' },
        department,
        manager: -1,
        level: 0,
        hasReports: false,
        hireDay: 0,
        status: 'active',
        location: officeFor(structure, homeOffices[department]),
      });
    }
    if (start !== ceo) drafts[start].manager = ceo;
    // Breadth-first: each manager in turn takes 1 … 2·span−1 reports, so spans vary around the average and depth grows as log(size).
    let next = start + 1;
    for (let queue = start; next < drafts.length; queue++) {
      const span = structure.between(1, 2 * parameters.spanOfControl - 1);
      for (let r = 0; r < span && next < drafts.length; r++, next++) {
        drafts[next].manager = queue;
        drafts[next].level = drafts[queue].level + 1;
        drafts[queue].hasReports = true;
      }
    }
  }
  if (ceo !== 0) drafts[ceo].hasReports = true;

  const earlierNames: PersonName[] = [];
  for (const draft of drafts) {
    draft.name = names.name(earlierNames);
    earlierNames.push(draft.name);
    const isCeo = draft.manager === -1;
    if (draft.level > 0 && !draft.hasReports && structure.chance(parameters.pendingRate)) {
      draft.status = 'pending';
      draft.hireDay = referenceDay + structure.between(1, PENDING_WINDOW_DAYS);
    } else {
      draft.status = !isCeo && structure.chance(parameters.onLeaveRate) ? 'on-leave' : 'active';
      draft.hireDay = referenceDay - structure.between(0, TENURE_YEARS * 365);
    }
  }

  // Former employees left before the first snapshot; they sat in departments as large as today's.
  const departmentPicker = new WeightedPicker(sizes);
  const managersOf = starts.map((start, department) => {
    const managers: number[] = [];
    for (let i = start; i < start + sizes[department]; i++) if (drafts[i].hasReports) managers.push(i);
    return managers.length > 0 ? managers : [start];
  });
  const formerCount = Math.round(count * parameters.formerEmployeeRate);
  for (let i = 0; i < formerCount; i++) {
    const department = departmentPicker.pick(structure);
    const name = names.name(earlierNames);
    earlierNames.push(name);
    drafts.push({
      name,
      department,
      manager: structure.pick(managersOf[department]),
      level: 2,
      hasReports: false,
      hireDay: referenceDay - structure.between(365, TENURE_YEARS * 365),
      status: 'active',
      location: officeFor(structure, homeOffices[department]),
    });
  }

  const order = drafts.map((draft, index) => ({ index, day: draft.hireDay })).sort((a, b) => a.day - b.day || a.index - b.index);
  const ids: string[] = new Array<string>(drafts.length);
  order.forEach(({ index }, rank) => (ids[index] = employeeIdOf(rank + 1)));

  const people: Person[] = [];
  const formerEmployees: FormerEmployee[] = [];
  drafts.forEach((draft, index) => {
    const department = departmentList[draft.department];
    const person = personRecord({
      employeeId: ids[index],
      givenName: draft.name.givenName,
      surname: draft.name.surname,
      preferredName: names.preferredName(draft.name.givenName),
      department,
      title: titleFor(structure, department, draft.level, draft.hasReports),
      manager: draft.manager === -1 ? undefined : ids[draft.manager],
      location: draft.location,
      hireDate: isoDay(draft.hireDay),
      employmentStatus: draft.status,
      mobile: names.mobile(draft.location),
    });
    if (index < count) people.push(person);
    else formerEmployees.push({ person, leftIn: 0 });
  });
  people.sort(byEmployeeId);
  formerEmployees.sort((a, b) => byEmployeeId(a.person, b.person));
  return {
    people,
    departments: departmentList.map((name, department) => ({ name, head: ids[starts[department]] })),
    formerEmployees,
    nextEmployeeNumber: drafts.length + 1,
  };
}
