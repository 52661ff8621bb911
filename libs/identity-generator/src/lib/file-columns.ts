import type { Group, Person } from './model';

/**
 * One column of a generated file and the connector attribute it maps to. The
 * writers and the connector config helpers both read these, so a file and
 * its config cannot disagree.
 */
export interface FileColumn<T> {
  /** The header text. */
  column: string;
  attribute: string;
  /** The CSV connector's column type when not `string`. */
  type?: 'reference' | 'datetime';
  /** The cell joins several values with the format's separator. */
  multiValued?: boolean;
  required?: boolean;
  value(row: T): string | readonly string[] | undefined;
}

export const PERSON_COLUMNS: readonly FileColumn<Person>[] = [
  { column: 'Employee ID', attribute: 'employeeId', required: true, value: (person) => person.employeeId },
  { column: 'Given Name', attribute: 'givenName', value: (person) => person.givenName },
  { column: 'Surname', attribute: 'sn', required: true, value: (person) => person.surname },
  { column: 'Preferred Name', attribute: 'preferredName', value: (person) => person.preferredName },
  { column: 'Department', attribute: 'department', value: (person) => person.department },
  { column: 'Title', attribute: 'title', value: (person) => person.title },
  { column: 'Manager', attribute: 'manager', type: 'reference', value: (person) => person.manager },
  { column: 'Location', attribute: 'location', value: (person) => person.location },
  { column: 'Hire Date', attribute: 'hireDate', type: 'datetime', value: (person) => person.hireDate },
  { column: 'Employment Status', attribute: 'employmentStatus', value: (person) => person.employmentStatus },
  { column: 'Mobile', attribute: 'mobile', value: (person) => person.mobile },
];

export const GROUP_COLUMNS: readonly FileColumn<Group>[] = [
  { column: 'Group ID', attribute: 'groupId', required: true, value: (group) => group.groupId },
  { column: 'Name', attribute: 'name', required: true, value: (group) => group.name },
  { column: 'Kind', attribute: 'kind', value: (group) => group.kind },
  // Employee ids: anchors of the people file, so plain strings to this connector.
  { column: 'Members', attribute: 'members', multiValued: true, value: (group) => group.members },
  // Group ids: anchors of rows of this same file.
  { column: 'Member Groups', attribute: 'memberGroups', type: 'reference', multiValued: true, value: (group) => group.memberGroups },
];
