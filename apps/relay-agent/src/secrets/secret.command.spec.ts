import type { SecretProvider, SecretRecord, SecretRecords } from '@identitymesh/secrets';
import { SecretStore } from '@identitymesh/secrets';
import { runSecretCommand, SecretCommandUsageError } from './secret.command';

class MemoryRecords implements SecretRecords {
  readonly rows = new Map<string, SecretRecord>();
  async find(reference: string) {
    return this.rows.get(reference) ?? null;
  }
  async list() {
    return [...this.rows.values()].sort((a, b) => a.reference.localeCompare(b.reference));
  }
  async save(record: SecretRecord) {
    this.rows.set(record.reference, record);
  }
  async saveAll(records: SecretRecord[]) {
    for (const r of records) this.rows.set(r.reference, r);
  }
  async delete(reference: string) {
    return this.rows.delete(reference);
  }
}

/** Reverses the value: enough to see that what is stored is not what was given. */
const reversing: SecretProvider = {
  name: 'host',
  currentKeyId: async () => 'host:test',
  protect: async (_reference, _version, value) => ({ ciphertext: [...value].reverse().join(''), keyId: 'host:test' }),
  unprotect: async (_reference, _version, stored) => [...stored.ciphertext].reverse().join(''),
};

describe('secret command', () => {
  let records: MemoryRecords;
  let store: SecretStore;
  let out: string[];

  beforeEach(() => {
    records = new MemoryRecords();
    store = new SecretStore(records, { current: () => reversing, get: () => reversing });
    out = [];
  });

  const run = (args: string[], input = '') => runSecretCommand(args, store, { out: (text) => out.push(text), readValue: async () => input });

  it('stores the value read from stdin, without its final newline, and rotates on a second set', async () => {
    await run(['set', 'ldap/branch/bind-password'], 's3cret\n');
    await run(['set', 'ldap/branch/bind-password'], 's3cret-2\n');
    expect(await store.get('ldap/branch/bind-password')).toBe('s3cret-2');
    expect(out).toEqual(['stored ldap/branch/bind-password (version 1, host key host:test)\n', 'rotated ldap/branch/bind-password (version 2, host key host:test)\n']);
  });

  it('lists references without values, and deletes', async () => {
    await run(['set', 'b/two'], 'x');
    await run(['set', 'a/one'], 'y');
    out = [];
    await run(['list']);
    expect(out.join('')).toBe('a/one\tversion 1\thost\thost:test\nb/two\tversion 1\thost\thost:test\n');
    await run(['delete', 'a/one']);
    expect([...records.rows.keys()]).toEqual(['b/two']);
  });

  it.each([
    [['set'], '', 'needs a reference'],
    [['set', 'a/b'], '\n', 'the value is empty'],
    [['rotate', 'a/b'], 'x', 'unknown secret action "rotate"'],
    [['set', 'a/b', 'extra'], 'x', 'too many arguments'],
  ])('refuses %j', async (args, input, message) => {
    await expect(run(args, input)).rejects.toThrow(SecretCommandUsageError);
    await expect(run(args, input)).rejects.toThrow(message);
    expect(records.rows.size).toBe(0);
  });
});
