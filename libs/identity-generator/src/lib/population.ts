import { generateGroups } from './groups';
import type { Population } from './model';
import { resolvePopulationParameters, type PopulationOptions } from './population-options';
import { generateWorkforce } from './workforce';

/**
 * A directory of people and groups with realistic structure, the same for
 * the same options on any machine: the randomness comes from faker's seeded
 * generator only, and dates from `referenceDate`, never the clock.
 */
export function generatePopulation(options: PopulationOptions): Population {
  const parameters = resolvePopulationParameters(options);
  const workforce = generateWorkforce(parameters);
  const { groups, departmentGroupIds } = generateGroups(parameters, workforce.people, workforce.departments);
  return {
    parameters,
    generation: 0,
    referenceDate: parameters.referenceDate,
    people: workforce.people,
    departments: workforce.departments.map((department, index) => ({ ...department, groupId: departmentGroupIds[index] })),
    groups,
    formerEmployees: workforce.formerEmployees,
    nextEmployeeNumber: workforce.nextEmployeeNumber,
  };
}
