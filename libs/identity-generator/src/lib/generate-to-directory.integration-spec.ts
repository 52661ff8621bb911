import { parse } from 'csv-parse/sync';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CsvConnectorConfigJson } from './connector-config';
import { generateToDirectory, type GenerationManifest } from './generate-to-directory';
import { sha256 } from './testing/checks';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'im-identity-generator-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const options = { seed: 99, people: 3000, groups: 300, delta: [{}, { hireRate: 0.05 }], jsonLines: true };

describe('generateToDirectory', () => {
  it('writes the snapshot, the deltas with their change lists, the connector configs and a manifest', async () => {
    const out = join(root, 'first');
    const { manifest, populations, deltas } = await generateToDirectory({ ...options, out });
    expect((await readdir(out)).sort()).toEqual(['delta-1', 'delta-2', 'groups.connector.json', 'groups.csv', 'groups.jsonl', 'manifest.json', 'people.connector.json', 'people.csv', 'people.jsonl']);
    expect((await readdir(join(out, 'delta-1'))).sort()).toEqual(['group-changes.jsonl', 'groups.csv', 'groups.jsonl', 'people-changes.jsonl', 'people.csv', 'people.jsonl']);
    expect(populations).toHaveLength(3);
    expect(deltas).toHaveLength(2);
    expect(manifest.snapshots.map((snapshot) => snapshot.directory)).toEqual(['.', 'delta-1', 'delta-2']);
    const second = manifest.snapshots[2].changes;
    expect(second && second.hires + second.rehires).toBe(Math.round(populations[1].people.length * 0.05));
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))).toEqual(manifest);

    for (const snapshot of manifest.snapshots) {
      for (const [name, file] of Object.entries(snapshot.files)) {
        const bytes = await readFile(join(out, snapshot.directory, name));
        expect({ name, bytes: bytes.length, sha256: sha256(bytes.toString('utf8')) }).toEqual({ name, bytes: file.bytes, sha256: file.sha256 });
      }
    }
    const people = parse(await readFile(join(out, 'delta-1', 'people.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(people.map((row) => row['Employee ID'])).toEqual(populations[1].people.map((person) => person.employeeId));
    const changes = (await readFile(join(out, 'delta-1', 'people-changes.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(changes).toEqual(deltas[0].people);

    const config = JSON.parse(await readFile(join(out, 'people.connector.json'), 'utf8')) as CsvConnectorConfigJson;
    expect(config.path).toBe(join(out, 'people.csv'));
    expect(config.anchorColumn).toBe('Employee ID');
    const groupsConfig = JSON.parse(await readFile(join(out, 'groups.connector.json'), 'utf8')) as CsvConnectorConfigJson;
    expect(groupsConfig.path).toBe(join(out, 'groups.csv'));
  });

  it('writes byte-identical files for the same options, and different ones for another seed', async () => {
    const read = async (directory: string): Promise<GenerationManifest> => JSON.parse(await readFile(join(root, directory, 'manifest.json'), 'utf8'));
    await generateToDirectory({ ...options, out: join(root, 'again') });
    await generateToDirectory({ ...options, seed: 100, out: join(root, 'other') });
    expect(await readFile(join(root, 'again', 'manifest.json'), 'utf8')).toBe(await readFile(join(root, 'first', 'manifest.json'), 'utf8'));
    const first = await read('first');
    const other = await read('other');
    expect(other.snapshots[0].files['people.csv'].sha256).not.toBe(first.snapshots[0].files['people.csv'].sha256);
  });
});
