import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { generateToDirectory } from '@identitymesh/identity-generator';
import type { GenerationManifest, GroupChange, PersonChange } from '@identitymesh/identity-generator';
import type { DemoPaths } from '../demo-paths';

export interface FeedOptions {
  seed: number;
  people: number;
  /** The configuration's connectors read the feed already: keep it whatever it is. */
  inUse: boolean;
}

export type FeedState =
  | { kind: 'generated'; manifest: GenerationManifest }
  | { kind: 'kept'; manifest: GenerationManifest }
  /** A feed of other parameters is in use by the configuration: kept, since replacing it would look like mass hires and leavers. */
  | { kind: 'kept-other'; manifest: GenerationManifest };

/**
 * The HR feed: generated once (the first snapshot and delta-1) and kept, so
 * a restarted demo goes on with the files the engine already imported. A
 * new configuration starts from the first snapshot: a feed that was swapped
 * to delta-1 already, or made with other parameters, is generated again.
 */
export async function prepareFeed(paths: DemoPaths, options: FeedOptions): Promise<FeedState> {
  const existing = await readManifest(paths);
  if (existing && existsSync(paths.peopleCsv) && existsSync(paths.groupsCsv)) {
    const same = existing.parameters.seed === options.seed && existing.parameters.people === options.people;
    if (options.inUse) return { kind: same ? 'kept' : 'kept-other', manifest: existing };
    if (same && !isDeltaSwapped(paths)) return { kind: 'kept', manifest: existing };
  }
  await rm(paths.swapMarker, { force: true });
  const { manifest } = await generateToDirectory({ seed: options.seed, people: options.people, out: paths.feed, delta: true });
  return { kind: 'generated', manifest };
}

async function readManifest(paths: DemoPaths): Promise<GenerationManifest | null> {
  if (!existsSync(paths.manifest)) return null;
  return JSON.parse(await readFile(paths.manifest, 'utf8')) as GenerationManifest;
}

export function isDeltaSwapped(paths: DemoPaths): boolean {
  return existsSync(paths.swapMarker);
}

/**
 * Puts delta-1 in place of the first snapshot, as an HR system's next drop
 * would arrive: each file renamed over the old one, so the connector reads
 * the old file or the new one, never half of either. Done once: the marker
 * remembers it across restarts. A swap interrupted between the two renames
 * finishes the second one the next time. Returns false when it was done before.
 */
export async function swapInDelta(paths: DemoPaths, at: Date): Promise<boolean> {
  if (isDeltaSwapped(paths)) return false;
  if (existsSync(paths.deltaPeopleCsv)) await rename(paths.deltaPeopleCsv, paths.peopleCsv);
  if (existsSync(paths.deltaGroupsCsv)) await rename(paths.deltaGroupsCsv, paths.groupsCsv);
  await writeFile(paths.swapMarker, `${JSON.stringify({ swapped: 'delta-1', at: at.toISOString() }, null, 2)}\n`);
  return true;
}

/** What delta-1 changed, from the generator's change lists. */
export interface DeltaChangeList {
  people: PersonChange[];
  groups: GroupChange[];
}

export async function readDeltaChanges(paths: DemoPaths): Promise<DeltaChangeList> {
  const lines = async <T>(path: string): Promise<T[]> =>
    (await readFile(path, 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  return { people: await lines<PersonChange>(paths.deltaPeopleChanges), groups: await lines<GroupChange>(paths.deltaGroupChanges) };
}

/** A connector config the generator wrote beside its files (`people.connector.json`). */
export async function readConnectorConfig(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}
