import { IdentityGeneratorError } from './generator.errors';
import { EXECUTIVE_OFFICE } from './reference-data';
import { isInternationalName } from './names';
import { generatePopulation } from './population';
import { checkManagerTree, median, sha256 } from './testing/checks';

/** sha256 of the JSON of generatePopulation({ seed: 2025, people: 300 }) with faker 10.6.0. */
const GOLDEN_SHA256 = '241e3838e585a0e61702cee6c1f2ffa5563941c6a3726e73ed82013b55fcf8b8';

const fullName = (person: { givenName: string; surname: string }): string => `${person.givenName} ${person.surname}`;

describe('generatePopulation: determinism', () => {
  it('gives the same population for the same seed and options, and another for another seed', () => {
    const options = { seed: 11, people: 2000 };
    const first = JSON.stringify(generatePopulation(options));
    expect(JSON.stringify(generatePopulation(options))).toBe(first);
    expect(JSON.stringify(generatePopulation({ ...options, seed: 12 }))).not.toBe(first);
  });

  it('keeps the people when only group options change: each concern draws from its own stream', () => {
    const base = generatePopulation({ seed: 5, people: 1500 });
    const moreGroups = generatePopulation({ seed: 5, people: 1500, groups: 400, nestedGroupRate: 0.5, largeGroupMembers: 700 });
    expect(moreGroups.people).toEqual(base.people);
    expect(moreGroups.groups).not.toEqual(base.groups);
  });

  // Pinned across runs and machines: only a deliberate change to the generator, or a faker upgrade, may move it.
  it('is byte-identical across runs (golden hash of a small population)', () => {
    const population = generatePopulation({ seed: 2025, people: 300 });
    expect(sha256(JSON.stringify(population))).toBe(GOLDEN_SHA256);
  });
});

describe('generatePopulation: people', () => {
  const population = generatePopulation({ seed: 42, people: 10_000 });
  const { people } = population;

  it('hands out unique E-number ids in hire-date order, former employees among them', () => {
    const ids = new Set(people.map((person) => person.employeeId));
    expect(ids.size).toBe(people.length);
    expect([...ids].filter((id) => !/^E\d{6}$/.test(id))).toEqual([]);
    const all = [...people, ...population.formerEmployees.map((former) => former.person)].sort((a, b) => (a.employeeId < b.employeeId ? -1 : 1));
    expect(all.length).toBe(population.nextEmployeeNumber - 1);
    expect(all.filter((person, i) => i > 0 && person.hireDate < all[i - 1].hireDate)).toEqual([]);
    expect(population.formerEmployees).toHaveLength(100);
    expect(population.formerEmployees.filter((former) => ids.has(former.person.employeeId))).toEqual([]);
  });

  it('builds one manager tree: every manager exists, no cycles, the CEO at the root', () => {
    const { root, depth } = checkManagerTree(people);
    const ceo = people.find((person) => person.employeeId === root);
    expect(ceo).toMatchObject({ department: EXECUTIVE_OFFICE, title: 'Chief Executive Officer', employmentStatus: 'active' });
    expect(depth).toBeGreaterThan(3);
    expect(depth).toBeLessThan(15);
  });

  it('gives each department a head reporting to the CEO, and keeps managers inside their department below the head', () => {
    const byId = new Map(people.map((person) => [person.employeeId, person]));
    const heads = new Set(population.departments.map((department) => department.head));
    const ceo = people.find((person) => person.manager === undefined)?.employeeId;
    for (const department of population.departments) {
      const head = byId.get(department.head);
      expect(head?.department).toBe(department.name);
      if (department.name !== EXECUTIVE_OFFICE) expect(head?.manager).toBe(ceo);
    }
    const crossing = people.filter((person) => !heads.has(person.employeeId) && byId.get(person.manager as string)?.department !== person.department);
    expect(crossing).toEqual([]);
  });

  it('makes department sizes Zipf-skewed: the largest far above the median', () => {
    const sizes = new Map<string, number>();
    for (const person of people) sizes.set(person.department, (sizes.get(person.department) ?? 0) + 1);
    expect(sizes.size).toBe(population.departments.length);
    expect(population.departments.length).toBe(50);
    const values = [...sizes.values()];
    expect(Math.max(...values)).toBeGreaterThan(10 * median(values));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(1);
  });

  it('repeats full names at the configured rate, so logins collide (jdoe, jdoe2)', () => {
    const distinct = new Set(people.map(fullName)).size;
    const duplicateRate = (people.length - distinct) / people.length;
    // 2 % on purpose, plus the few collisions of faker's name lists.
    expect(duplicateRate).toBeGreaterThan(0.015);
    expect(duplicateRate).toBeLessThan(0.03);
    const none = generatePopulation({ seed: 42, people: 10_000, duplicateNameRate: 0 }).people;
    expect((none.length - new Set(none.map(fullName)).size) / none.length).toBeLessThan(0.01);
  });

  it('gives the configured share names with diacritics or apostrophes, and none when the rate is 0', () => {
    const international = people.filter((person) => isInternationalName(person.givenName) || isInternationalName(person.surname));
    expect(international.length / people.length).toBeGreaterThan(0.04);
    expect(international.length / people.length).toBeLessThan(0.065);
    expect(international.some((person) => person.surname.includes("'"))).toBe(true);
    expect(international.some((person) => /[À-ž]/.test(fullName(person)))).toBe(true);
    const plain = generatePopulation({ seed: 42, people: 3000, internationalNameRate: 0 }).people;
    expect(plain.filter((person) => isInternationalName(fullName(person)))).toEqual([]);
  });

  it('dates hires before the reference date, pending starts after it, never from the clock', () => {
    const misdated = people.filter((person) => !/^\d{4}-\d{2}-\d{2}$/.test(person.hireDate) || (person.employmentStatus === 'pending') !== person.hireDate > '2025-01-01');
    expect(misdated).toEqual([]);
    const later = generatePopulation({ seed: 42, people: 200, referenceDate: '2030-06-30' }).people;
    expect(later.some((person) => person.hireDate > '2025-01-01')).toBe(true);
    const statuses = new Set(people.map((person) => person.employmentStatus));
    expect(statuses).toEqual(new Set(['active', 'on-leave', 'pending']));
  });

  it('fills the other attributes: preferred names for some, E.164 mobiles, offices', () => {
    const preferred = people.filter((person) => person.preferredName !== undefined);
    expect(preferred.length / people.length).toBeGreaterThan(0.08);
    expect(preferred.length / people.length).toBeLessThan(0.12);
    expect(preferred.filter((person) => person.preferredName === person.givenName)).toEqual([]);
    expect(people.filter((person) => !/^\+[1-9]\d{7,14}$/.test(person.mobile))).toEqual([]);
    expect(new Set(people.map((person) => person.location)).size).toBeGreaterThan(10);
  });

  it('copes with a one-person company', () => {
    const tiny = generatePopulation({ seed: 1, people: 1 });
    expect(tiny.people).toHaveLength(1);
    expect(tiny.people[0]).toMatchObject({ title: 'Chief Executive Officer', department: EXECUTIVE_OFFICE });
    expect(tiny.people[0].manager).toBeUndefined();
  });
});

describe('generatePopulation: options', () => {
  it.each([
    ['seed', { seed: -1 }],
    ['seed', { seed: 1.5 }],
    ['people', { seed: 1, people: 0 }],
    ['duplicateNameRate', { seed: 1, duplicateNameRate: 1.5 }],
    ['departments', { seed: 1, people: 10, departments: 11 }],
    ['groups', { seed: 1, people: 1000, departments: 20, groups: 5 }],
    ['largeGroupMembers', { seed: 1, people: 100, largeGroupMembers: 101 }],
    ['referenceDate', { seed: 1, referenceDate: '2025-02-30' }],
  ])('refuses a bad %s, naming it', (name, options) => {
    let caught: unknown;
    try {
      generatePopulation(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(IdentityGeneratorError);
    expect(caught).toMatchObject({ code: 'GENERATOR_PARAMETER_INVALID' });
    expect((caught as Error).message.startsWith(`${name} `)).toBe(true);
  });
});
