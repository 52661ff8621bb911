import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToDirectory, GROUPS_CONNECTOR_JSON, PEOPLE_CONNECTOR_JSON, type DeltaOptions, type GenerateToDirectoryResult, type PopulationOptions } from '@identitymesh/identity-generator';
import type { JsonObject } from '@identitymesh/persistence';

/** A generated HR feed on disk: the first snapshot's files and the csv connector configs for them. */
export interface Feed {
  dir: string;
  people: number;
  groups: number;
  memberships: number;
  peopleConfig: JsonObject;
  groupsConfig: JsonObject;
  generated: GenerateToDirectoryResult;
}

/**
 * The identity generator's feed (docs/identity-generator.md), written once per
 * set of options and reused by every dialect: the same seed gives the same
 * files, so the engine and its limit, and SQLite and PostgreSQL, see the
 * same people.
 */
export class FeedCache {
  private readonly feeds = new Map<string, Promise<Feed>>();

  constructor(private readonly dir: string) {}

  get(name: string, options: PopulationOptions & { delta?: DeltaOptions | DeltaOptions[] }): Promise<Feed> {
    const key = `${name}:${JSON.stringify(options)}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = this.generate(join(this.dir, name), options);
      this.feeds.set(key, feed);
    }
    return feed;
  }

  private async generate(dir: string, options: PopulationOptions & { delta?: DeltaOptions | DeltaOptions[] }): Promise<Feed> {
    const generated = await generateToDirectory({ ...options, out: dir });
    const first = generated.manifest.snapshots[0];
    const config = (file: string) => {
      const path = join(dir, file);
      if (!existsSync(path)) throw new Error(`the generator wrote no ${path}`);
      return JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
    };
    return { dir, people: first.people, groups: first.groups, memberships: first.memberships, peopleConfig: config(PEOPLE_CONNECTOR_JSON), groupsConfig: config(GROUPS_CONNECTOR_JSON), generated };
  }
}
