import { invalidParameter } from './generator.errors';
import type { Person } from './model';

const ID_DIGITS = 6;

export function employeeIdOf(number: number): string {
  return `E${String(number).padStart(ID_DIGITS, '0')}`;
}

export function groupIdOf(number: number): string {
  return `G${String(number).padStart(ID_DIGITS, '0')}`;
}

/** Numeric order of ids of one prefix: past E999999 the ids get longer, and a plain string sort would misplace them. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byEmployeeId(a: { employeeId: string }, b: { employeeId: string }): number {
  return compareIds(a.employeeId, b.employeeId);
}

const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date, in UTC: the generator's dates have no zone and no clock. */
export function dayNumber(date: string, parameter = 'referenceDate'): number {
  const match = ISO_DAY.exec(date);
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== date) {
    throw invalidParameter(parameter, `must be a date as YYYY-MM-DD, got '${date}'`);
  }
  return time / DAY_MS;
}

export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A person object with its properties in the model's order and without
 * absent optional ones, so JSON output and equality never depend on how the
 * object was built.
 */
export function personRecord(fields: Person): Person {
  return {
    employeeId: fields.employeeId,
    givenName: fields.givenName,
    surname: fields.surname,
    ...(fields.preferredName !== undefined ? { preferredName: fields.preferredName } : {}),
    department: fields.department,
    title: fields.title,
    ...(fields.manager !== undefined ? { manager: fields.manager } : {}),
    location: fields.location,
    hireDate: fields.hireDate,
    employmentStatus: fields.employmentStatus,
    mobile: fields.mobile,
  };
}
