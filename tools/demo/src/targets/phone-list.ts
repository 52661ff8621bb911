import { existsSync, readFileSync, rmSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** The phone list's columns, in file order; `Employee ID` is its anchor. */
export const PHONE_LIST_COLUMNS = [
  { column: 'Employee ID', attribute: 'employeeId' },
  { column: 'Account', attribute: 'accountName' },
  { column: 'Name', attribute: 'displayName' },
  { column: 'Department', attribute: 'department' },
  { column: 'Title', attribute: 'title' },
  { column: 'Location', attribute: 'location' },
  { column: 'Mobile', attribute: 'mobile' },
  { column: 'Mail', attribute: 'mail' },
] as const;

export type PhoneListRow = Record<(typeof PHONE_LIST_COLUMNS)[number]['column'], string>;

/** The rows of the phone list; none before its first export. */
export function readPhoneList(file: string): PhoneListRow[] {
  if (!existsSync(file)) return [];
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as PhoneListRow[];
}

/** A new configuration starts from no phone list, as its connector space does. */
export function removePhoneList(file: string): void {
  rmSync(file, { force: true });
}
