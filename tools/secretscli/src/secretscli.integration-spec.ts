import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditEventEntity, connectDatabase, DatabaseSettings, SecretEntity } from '@identitymesh/persistence';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';

// Each case starts the built CLI as a process (about a second each on a loaded 2-core host), several per test.
jest.setTimeout(120_000);

const MAIN = resolve(__dirname, '../../../dist/tools/secretscli/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as an operator would; every output is kept for the leak scan. */
function cli(env: Record<string, string>, args: string[], stdin?: string): Promise<CliRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', rej);
    child.on('exit', (code) => res({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx nx build secretscli\` before the integration tests`);
});

describe.each(['sqlite', 'postgres'] as const)('secretscli on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  const outputs: string[] = [];
  // Printable and distinctive, so a match in any output or file is the value itself.
  const value = `pw-${randomBytes(12).toString('hex')}`;
  const reference = 'ldap/corp/bind-password';

  const run = async (args: string[], stdin?: string, extraEnv: Record<string, string> = {}) => {
    const result = await cli({ ...env, ...extraEnv }, args, stdin);
    // What `get --reveal` prints is the one output allowed to hold a value.
    if (!(args[0] === 'get' && args.includes('--reveal'))) outputs.push(result.stdout);
    outputs.push(result.stderr);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // never a stack trace
    return result;
  };

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataDir = mkdtempSync(join(tmpdir(), 'im-secretscli-'));
    env = { ...db.env, IM_DATA_DIR: dataDir, IM_DB_AUTO_MIGRATE: 'true' };
  });

  afterAll(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores a value read from stdin and prints only its description', async () => {
    const set = await run(['set', reference], `${value}\n`);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(new RegExp(`stored ${reference} \\(version 1, host key host:[0-9a-f]+\\)`));
    const list = await run(['list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ reference, provider: 'host', version: 1, rotatedAt: null })]);
  });

  it('refuses to print a value without --reveal, and prints it with', async () => {
    const refused = await run(['get', reference]);
    expect(refused.code).toBe(64);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('without --reveal');
    const revealed = await run(['get', reference, '--reveal']);
    expect(revealed.code).toBe(0);
    expect(revealed.stdout).toBe(`${value}\n`);
  });

  it('rotates to a new version and deletes', async () => {
    const rotated = await run(['rotate', reference], `${value}-2`);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('version 2');
    expect((await run(['get', reference, '--reveal'])).stdout).toBe(`${value}-2\n`);
    expect((await run(['rotate', 'ldap/corp/no-such'], 'x')).code).toBe(66);
    await run(['set', 'scim/hr/token'], `${value}-scim`);
    expect((await run(['delete', 'scim/hr/token'])).code).toBe(0);
    expect((await run(['get', 'scim/hr/token', '--reveal'])).code).toBe(66);
  });

  it('answers bad input with its own exit code and changes nothing', async () => {
    const cases: Array<[string[], string | undefined, number, RegExp]> = [
      [[], undefined, 64, /a command is required/],
      [['frobnicate'], undefined, 64, /unknown command "frobnicate"/],
      [['get', reference, '--revael'], undefined, 64, /unknown option --revael/],
      [['set', 'Not A Reference'], 'x', 65, /is not a secret reference/],
      [['set', 'ldap/corp/empty'], '\n', 65, /the value is empty/],
      [['set', 'ldap/corp/huge'], 'x'.repeat(16 * 1024 + 1), 65, /longer than 16384 bytes/],
      [['rewrap', '--to', 'vault'], undefined, 64, /--to vault is not a provider/],
      [['rewrap', '--to', 'shared-key'], undefined, 78, /IM_SECRETS_SHARED_KEY_FILE/],
    ];
    for (const [args, stdin, code, message] of cases) {
      const result = await run(args, stdin);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
    }
    expect(JSON.parse((await run(['list', '--json'])).stdout).map((s: { reference: string }) => s.reference)).toEqual([reference]);
  });

  it('fails cleanly under another host key and reads again after rewrap', async () => {
    const otherHostKey = join(dataDir, 'other-host', 'secrets-host.key');
    const onOtherHost = { IM_SECRETS_HOST_KEY_FILE: otherHostKey };
    const foreign = await run(['get', reference, '--reveal'], undefined, onOtherHost);
    expect(foreign.code).toBe(69);
    expect(foreign.stdout).toBe('');
    expect(foreign.stderr).toContain(`secret ${reference} cannot be decrypted here`);
    expect(foreign.stderr).toContain('rewrap --to host --from-host-key-file');

    // The operator brings the old host's key file along and rewraps under this host's key.
    const rewrap = await run(['rewrap', '--to', 'host', '--from-host-key-file', join(dataDir, 'keys', 'secrets-host.key')], undefined, onOtherHost);
    expect(rewrap.code).toBe(0);
    expect(rewrap.stdout).toMatch(/rewrapped 1 secret\(s\) to host key host:[0-9a-f]+; 0 already there/);
    expect((await run(['get', reference, '--reveal'], undefined, onOtherHost)).stdout).toBe(`${value}-2\n`);
    // Now the original host is the foreign one.
    expect((await run(['get', reference, '--reveal'])).code).toBe(69);
    const again = await run(['rewrap', '--to', 'host'], undefined, onOtherHost);
    expect(again.stdout).toContain('rewrapped 0 secret(s)');
    expect(again.stdout).toContain('1 already there');
  });

  it('moves every secret to a shared key that a second host can read', async () => {
    const sharedKeyFile = join(dataDir, 'shared.key');
    writeFileSync(sharedKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const otherHost = { IM_SECRETS_HOST_KEY_FILE: join(dataDir, 'other-host', 'secrets-host.key'), IM_SECRETS_SHARED_KEY_FILE: sharedKeyFile };
    expect((await run(['rewrap', '--to', 'shared-key'], undefined, otherHost)).code).toBe(0);
    const thirdHost = { IM_SECRETS_PROVIDER: 'shared-key', IM_SECRETS_SHARED_KEY_FILE: sharedKeyFile, IM_SECRETS_HOST_KEY_FILE: join(dataDir, 'third', 'k') };
    expect((await run(['get', reference, '--reveal'], undefined, thirdHost)).stdout).toBe(`${value}-2\n`);
    const list = JSON.parse((await run(['list', '--json'], undefined, thirdHost)).stdout);
    expect(list).toEqual([expect.objectContaining({ reference, provider: 'shared-key', keyId: expect.stringMatching(/^shared:/) })]);
  });

  it('leaves no plain value in any output, log, audit entry, secret row or data file', async () => {
    const settings = { ...db.settings, dialect } as DatabaseSettings;
    const dataSource = await connectDatabase(settings);
    let rows: string;
    let audit: AuditEventEntity[];
    try {
      rows = JSON.stringify(await dataSource.getRepository(SecretEntity).find());
      audit = await dataSource.getRepository(AuditEventEntity).find({ order: { at: 'ASC' } });
    } finally {
      await dataSource.destroy();
    }
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['secret.create', 'secret.rotate', 'secret.reveal', 'secret.delete', 'secret.rewrap']),
    );
    expect(audit.every((e) => e.actorType === 'operator' && e.actor.includes('@'))).toBe(true);
    const haystacks = [
      ...outputs.map((text, i) => ({ where: `cli output #${i}`, text })),
      { where: 'IM_Secrets', text: rows },
      { where: 'IM_AuditEvents', text: JSON.stringify(audit) },
      ...filesUnder(dataDir).map((f) => ({ where: f.path, text: f.bytes.toString('latin1') })),
      ...(dialect === 'sqlite' ? filesUnder(resolve(db.settings.sqliteFile as string, '..')).map((f) => ({ where: f.path, text: f.bytes.toString('latin1') })) : []),
    ];
    expect(haystacks.length).toBeGreaterThan(20);
    expect(haystacks.filter((h) => h.text.includes(value)).map((h) => h.where)).toEqual([]);
  });
});
