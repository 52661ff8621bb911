import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { groupsCsvConnectorConfig, peopleCsvConnectorConfig } from './connector-config';
import { writeGroupsCsv, writePeopleCsv, type CsvFormat } from './csv-writer';
import { generateDelta, type DeltaChanges, type DeltaOptions, type DeltaSummary } from './delta';
import { writeJsonLines } from './json-lines-writer';
import type { Population, PopulationParameters } from './model';
import { generatePopulation } from './population';
import type { PopulationOptions } from './population-options';
import type { WriteResult } from './record-writer';

export interface GenerateToDirectoryOptions extends PopulationOptions {
  /** The directory to write to; created when missing. Files of the same names in it are replaced. */
  out: string;
  /** Deltas after the first snapshot: `true` for one with the default churn, options for one, a list for a chain. @default none */
  delta?: boolean | DeltaOptions | readonly DeltaOptions[];
  /** The CSV dialect; the connector configs written beside the files match it. @default RFC 4180 with `|` between values */
  format?: CsvFormat;
  /** Also write `people.jsonl` and `groups.jsonl`. @default false */
  jsonLines?: boolean;
}

export interface GeneratedFile {
  records: number;
  bytes: number;
  sha256: string;
}

/** One snapshot of the feed: the population, or the population after a delta. */
export interface GeneratedSnapshot {
  /** Relative to the output directory: `.` for the population, `delta-1`, `delta-2` … for deltas. */
  directory: string;
  generation: number;
  referenceDate: string;
  people: number;
  groups: number;
  /** Direct person memberships over all groups. */
  memberships: number;
  /** Group-in-group memberships. */
  nestedMemberships: number;
  formerEmployees: number;
  /** By file name. */
  files: Record<string, GeneratedFile>;
  /** What the delta changed, for deltas. */
  changes?: DeltaSummary;
}

/** `manifest.json`: holds no absolute path and no time, so it is as reproducible as the files it describes. */
export interface GenerationManifest {
  parameters: PopulationParameters;
  snapshots: GeneratedSnapshot[];
  /** The connector config files, one per CSV file, pointing at the first snapshot's files. */
  connectors: { people: string; groups: string };
}

export interface GenerateToDirectoryResult {
  manifest: GenerationManifest;
  /** The generated populations, first snapshot first, for in-process callers that want an oracle without reading files back. */
  populations: Population[];
  /** The change list of each delta, in order. */
  deltas: DeltaChanges[];
}

export const PEOPLE_CSV = 'people.csv';
export const GROUPS_CSV = 'groups.csv';
export const PEOPLE_JSONL = 'people.jsonl';
export const GROUPS_JSONL = 'groups.jsonl';
/** One PersonChange per line. */
export const PEOPLE_CHANGES_JSONL = 'people-changes.jsonl';
/** One GroupChange per line. */
export const GROUP_CHANGES_JSONL = 'group-changes.jsonl';
export const PEOPLE_CONNECTOR_JSON = 'people.connector.json';
export const GROUPS_CONNECTOR_JSON = 'groups.connector.json';
export const MANIFEST_JSON = 'manifest.json';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeFileStreamed(path: string, write: (out: Writable) => Promise<WriteResult>): Promise<{ file: GeneratedFile; longestRecord: number }> {
  const result = await write(createWriteStream(path));
  return { file: { records: result.records, bytes: result.bytes, sha256: await sha256Of(path) }, longestRecord: result.longestRecord };
}

function deltaList(delta: GenerateToDirectoryOptions['delta']): readonly DeltaOptions[] {
  if (delta === undefined || delta === false) return [];
  if (delta === true) return [{}];
  return Array.isArray(delta) ? delta : [delta as DeltaOptions];
}

/**
 * Generates a population (and optionally deltas of it) and writes the feed
 * files, their connector configs and a manifest: the entry point for the
 * demo, end-to-end tests and the benchmark harness.
 *
 * ```
 * out/manifest.json
 * out/people.csv, out/groups.csv            the first snapshot
 * out/people.connector.json, groups.connector.json
 * out/delta-1/people.csv, groups.csv, people-changes.jsonl, group-changes.jsonl
 * ```
 */
export async function generateToDirectory(options: GenerateToDirectoryOptions): Promise<GenerateToDirectoryResult> {
  const { out, delta, format, jsonLines, ...populationOptions } = options;
  const directory = resolve(out);
  const deltaOptions = deltaList(delta);
  const populations = [generatePopulation(populationOptions)];
  const deltas: DeltaChanges[] = [];
  for (const next of deltaOptions) {
    const result = generateDelta(populations[populations.length - 1], next);
    populations.push(result.population);
    deltas.push(result.changes);
  }

  const snapshots: GeneratedSnapshot[] = [];
  let longestPerson = 0;
  let longestGroup = 0;
  for (const [generation, population] of populations.entries()) {
    const relative = generation === 0 ? '.' : `delta-${generation}`;
    const target = join(directory, relative);
    await mkdir(target, { recursive: true });
    const files: Record<string, GeneratedFile> = {};
    const people = await writeFileStreamed(join(target, PEOPLE_CSV), (stream) => writePeopleCsv(population.people, stream, format));
    const groups = await writeFileStreamed(join(target, GROUPS_CSV), (stream) => writeGroupsCsv(population.groups, stream, format));
    files[PEOPLE_CSV] = people.file;
    files[GROUPS_CSV] = groups.file;
    longestPerson = Math.max(longestPerson, people.longestRecord);
    longestGroup = Math.max(longestGroup, groups.longestRecord);
    if (jsonLines) {
      files[PEOPLE_JSONL] = (await writeFileStreamed(join(target, PEOPLE_JSONL), (stream) => writeJsonLines(population.people, stream))).file;
      files[GROUPS_JSONL] = (await writeFileStreamed(join(target, GROUPS_JSONL), (stream) => writeJsonLines(population.groups, stream))).file;
    }
    const changes = generation === 0 ? undefined : deltas[generation - 1];
    if (changes) {
      files[PEOPLE_CHANGES_JSONL] = (await writeFileStreamed(join(target, PEOPLE_CHANGES_JSONL), (stream) => writeJsonLines(changes.people, stream))).file;
      files[GROUP_CHANGES_JSONL] = (await writeFileStreamed(join(target, GROUP_CHANGES_JSONL), (stream) => writeJsonLines(changes.groups, stream))).file;
    }
    snapshots.push({
      directory: relative,
      generation: population.generation,
      referenceDate: population.referenceDate,
      people: population.people.length,
      groups: population.groups.length,
      memberships: population.groups.reduce((sum, group) => sum + group.members.length, 0),
      nestedMemberships: population.groups.reduce((sum, group) => sum + group.memberGroups.length, 0),
      formerEmployees: population.formerEmployees.length,
      files,
      ...(changes ? { changes: changes.summary } : {}),
    });
  }

  // One config per file for every snapshot: deltas are meant to replace the first snapshot's files in place.
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(join(directory, PEOPLE_CONNECTOR_JSON), json(peopleCsvConnectorConfig({ path: join(directory, PEOPLE_CSV), format, longestRecord: longestPerson })));
  await writeFile(join(directory, GROUPS_CONNECTOR_JSON), json(groupsCsvConnectorConfig({ path: join(directory, GROUPS_CSV), format, longestRecord: longestGroup })));
  const manifest: GenerationManifest = {
    parameters: populations[0].parameters,
    snapshots,
    connectors: { people: PEOPLE_CONNECTOR_JSON, groups: GROUPS_CONNECTOR_JSON },
  };
  await writeFile(join(directory, MANIFEST_JSON), json(manifest));
  return { manifest, populations, deltas };
}
