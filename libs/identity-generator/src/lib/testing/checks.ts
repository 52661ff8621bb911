import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { PERSON_ATTRIBUTES, type Group, type Person, type PersonAttribute } from '../model';

/** Hashes what is written and records how it was written, without keeping the text. */
export class HashingSink extends Writable {
  private readonly hash = createHash('sha256');
  readonly writeSizes: number[] = [];
  /** The most bytes ever waiting in the stream's buffer: bounded when the writer honours backpressure. */
  maxBuffered = 0;

  constructor(
    highWaterMark = 16 * 1024,
    private readonly onWrite: () => void = () => undefined,
  ) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.writeSizes.push(chunk.length);
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    this.onWrite();
    // A slow consumer: the writer must wait for drain rather than pile chunks up.
    setImmediate(callback);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Every manager exists, exactly one person has none, and following managers always ends there. */
export function checkManagerTree(people: readonly Person[]): { root: string; depth: number } {
  const byId = new Map(people.map((person) => [person.employeeId, person]));
  const roots = people.filter((person) => person.manager === undefined);
  if (roots.length !== 1) throw new Error(`expected one root, found ${roots.length}`);
  const depth = new Map<string, number>([[roots[0].employeeId, 0]]);
  let deepest = 0;
  for (const person of people) {
    const chain: string[] = [];
    let id: string | undefined = person.employeeId;
    while (id !== undefined && !depth.has(id)) {
      if (chain.includes(id)) throw new Error(`manager cycle through ${id}`);
      chain.push(id);
      const manager: string | undefined = byId.get(id)?.manager;
      if (manager !== undefined && !byId.has(manager)) throw new Error(`${id} has manager ${manager}, who is not in the population`);
      id = manager;
      if (chain.length > people.length) throw new Error('manager chain longer than the population');
    }
    let known = depth.get(id as string) as number;
    for (const link of chain.reverse()) depth.set(link, ++known);
    deepest = Math.max(deepest, depth.get(person.employeeId) as number);
  }
  return { root: roots[0].employeeId, depth: deepest };
}

/** Throws on a nested group that does not exist or on a cycle of nesting. */
export function checkNestingAcyclic(groups: readonly Group[]): void {
  const byId = new Map(groups.map((group) => [group.groupId, group]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`nesting cycle through ${id}`);
    const group = byId.get(id);
    if (!group) throw new Error(`nested group ${id} does not exist`);
    state.set(id, 'visiting');
    for (const nested of group.memberGroups) visit(nested);
    state.set(id, 'done');
  };
  for (const group of groups) visit(group.groupId);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface PeopleDiff {
  added: string[];
  removed: string[];
  modified: Map<string, PersonAttribute[]>;
}

/** The diff between two lists of people, computed independently of the delta's own bookkeeping. */
export function diffPeople(before: readonly Person[], after: readonly Person[]): PeopleDiff {
  const old = new Map(before.map((person) => [person.employeeId, person]));
  const now = new Map(after.map((person) => [person.employeeId, person]));
  const modified = new Map<string, PersonAttribute[]>();
  for (const [id, person] of now) {
    const was = old.get(id);
    if (!was) continue;
    const attributes = PERSON_ATTRIBUTES.filter((attribute) => JSON.stringify(was[attribute]) !== JSON.stringify(person[attribute]));
    if (attributes.length > 0) modified.set(id, attributes);
  }
  return {
    added: [...now.keys()].filter((id) => !old.has(id)).sort(),
    removed: [...old.keys()].filter((id) => !now.has(id)).sort(),
    modified,
  };
}
