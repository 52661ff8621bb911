import { join } from 'node:path';
import { GROUP_CHANGES_JSONL, GROUPS_CONNECTOR_JSON, GROUPS_CSV, MANIFEST_JSON, PEOPLE_CHANGES_JSONL, PEOPLE_CONNECTOR_JSON, PEOPLE_CSV } from '@identitymesh/identity-generator';

/** Where the demo keeps its files, all under `<data>/demo`. */
export interface DemoPaths {
  root: string;
  /** The generated HR feed: the first snapshot, its connector configs, `delta-1/`. */
  feed: string;
  manifest: string;
  peopleCsv: string;
  groupsCsv: string;
  peopleConnector: string;
  groupsConnector: string;
  /** The files the swap renames over `peopleCsv` and `groupsCsv`. */
  deltaPeopleCsv: string;
  deltaGroupsCsv: string;
  /** What delta-1 changed, as the generator wrote it: the oracle of the delta cycle's summary. */
  deltaPeopleChanges: string;
  deltaGroupChanges: string;
  /** Written once delta-1 was swapped in, so a restarted demo never swaps again. */
  swapMarker: string;
  /** The SQLite file the "Directory" connector writes. */
  directory: string;
  /** The CSV file the "Phone list" connector writes. */
  phoneList: string;
}

export function demoPaths(root: string): DemoPaths {
  const feed = join(root, 'feed');
  const delta = join(feed, 'delta-1');
  return {
    root,
    feed,
    manifest: join(feed, MANIFEST_JSON),
    peopleCsv: join(feed, PEOPLE_CSV),
    groupsCsv: join(feed, GROUPS_CSV),
    peopleConnector: join(feed, PEOPLE_CONNECTOR_JSON),
    groupsConnector: join(feed, GROUPS_CONNECTOR_JSON),
    deltaPeopleCsv: join(delta, PEOPLE_CSV),
    deltaGroupsCsv: join(delta, GROUPS_CSV),
    deltaPeopleChanges: join(delta, PEOPLE_CHANGES_JSONL),
    deltaGroupChanges: join(delta, GROUP_CHANGES_JSONL),
    swapMarker: join(root, 'delta-1-swapped.json'),
    directory: join(root, 'directory.sqlite'),
    phoneList: join(root, 'phone-list.csv'),
  };
}
