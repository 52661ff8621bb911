import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(__dirname, '../../../dist/tools/license/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built tool as a vendor or an operator would, in `cwd`. */
function cli(cwd: string, ...args: string[]): Promise<CliRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', rej);
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx nx build license-tool\` before the integration tests`);
});

describe('license tool (the built CLI as a process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-license-tool-'));
  const runs: CliRun[] = [];
  const run = async (...args: string[]) => {
    const result = await cli(dir, ...args);
    runs.push(result);
    return result;
  };
  const verify = (file: string, key = 'vendor/vendor-public.pem') => run('verify', file, '--public-key', key);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(() => {
    // Whatever went wrong, an operator never sees a stack trace.
    for (const result of runs.splice(0)) expect(`${result.stdout}\n${result.stderr}`).not.toMatch(STACK_FRAME);
  });

  describe('keygen', () => {
    it('writes the private key owner-only and the public key, and says how to trust it', async () => {
      const result = await run('keygen', '--out', 'vendor');
      expect(result.code).toBe(0);
      const privatePem = readFileSync(join(dir, 'vendor/vendor-private.pem'), 'utf8');
      const publicPem = readFileSync(join(dir, 'vendor/vendor-public.pem'), 'utf8');
      expect(privatePem).toContain('-----BEGIN PRIVATE KEY-----');
      expect(publicPem).toContain('-----BEGIN PUBLIC KEY-----');
      if (process.platform !== 'win32') expect(statSync(join(dir, 'vendor/vendor-private.pem')).mode & 0o777).toBe(0o600);
      expect(result.stdout).toMatch(/key id [0-9a-f]{16}/);
      expect(result.stdout).toContain(`IM_LICENSE_PUBLIC_KEYS=${join(dir, 'vendor/vendor-public.pem')}`);
      expect(result.stdout).not.toContain(privatePem.split('\n')[1]);
    });

    it('refuses to overwrite a key pair (exit 73) and leaves it as it was', async () => {
      const before = readFileSync(join(dir, 'vendor/vendor-private.pem'), 'utf8');
      const result = await run('keygen', '--out', 'vendor');
      expect(result.code).toBe(73);
      expect(result.stderr).toContain(`license: refusing to overwrite ${join(dir, 'vendor/vendor-private.pem')}`);
      expect(readFileSync(join(dir, 'vendor/vendor-private.pem'), 'utf8')).toBe(before);
    });

    it('makes a second, unrelated key pair in another folder', async () => {
      expect((await run('keygen', '--out', 'stranger')).code).toBe(0);
    });
  });

  describe('issue, verify and show of a good license', () => {
    it('issues a license with limits and prints what it signed', async () => {
      const result = await run('issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Contoso Ltd', '--expires', '+365', '--connectors', '10', '--objects', '50000', '--out', 'license.key');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^issued license [0-9a-f-]{36} for "Contoso Ltd" to /);
      expect(result.stdout).toContain('connectors  10');
      expect(result.stdout).toContain('objects     50000');
      expect(readFileSync(join(dir, 'license.key'), 'utf8').split('\n')[0]).toBe('IdentityMesh license v1');
    });

    it('verifies it with exit 0', async () => {
      const result = await verify('license.key');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^valid: license [0-9a-f-]{36} for "Contoso Ltd", signed by trusted key [0-9a-f]{16} \(/);
      expect(result.stderr).toBe('');
    });

    it('accepts the public key inline as base64, among other keys', async () => {
      const inline = /IM_LICENSE_PUBLIC_KEYS=([A-Za-z0-9+/=]{40,})$/m.exec((await run('keygen', '--out', 'inline')).stdout)?.[1] ?? '';
      const result = await run('issue', '--key', 'inline/vendor-private.pem', '--customer', 'Inline', '--expires', '+1', '--out', 'inline.key');
      expect(result.code).toBe(0);
      expect((await run('verify', 'inline.key', '--public-key', 'vendor/vendor-public.pem', '--public-key', inline)).code).toBe(0);
    });

    it('shows it, labelled unverified, as text and as JSON', async () => {
      const text = await run('show', 'license.key');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^UNVERIFIED: what license\.key says; its signature was NOT checked/);
      expect(text.stdout).toContain('customer    Contoso Ltd');
      const json = await run('show', 'license.key', '--json');
      expect(JSON.parse(json.stdout)).toMatchObject({ verified: false, customer: 'Contoso Ltd', limits: { connectors: 10, objects: 50_000 }, evaluation: false });
    });

    it('shows a forged license too (it does not check), and says it did not', async () => {
      writeFileSync(join(dir, 'shown-forged.key'), readFileSync(join(dir, 'license.key'), 'utf8').replace('"Contoso Ltd"', '"Fabrikam"'));
      const result = await run('show', 'shown-forged.key');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('UNVERIFIED');
      expect(result.stdout).toContain('customer    Fabrikam');
    });

    it('marks an evaluation license as such', async () => {
      expect((await run('issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Trial', '--expires', '+30', '--evaluation', '--out', 'evaluation.key')).code).toBe(0);
      const result = await verify('evaluation.key');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('valid: evaluation license');
      expect(result.stdout).toContain('evaluation  yes (EVALUATION license)');
    });

    it('refuses to overwrite a license without --force (exit 73), and replaces it with --force', async () => {
      const args = ['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Contoso Ltd', '--expires', '+730', '--out', 'license.key'];
      const refused = await run(...args);
      expect(refused.code).toBe(73);
      expect(refused.stderr).toContain('add --force to replace it');
      const before = readFileSync(join(dir, 'license.key'), 'utf8');
      expect((await run(...args, '--force')).code).toBe(0);
      expect(readFileSync(join(dir, 'license.key'), 'utf8')).not.toBe(before);
      expect((await verify('license.key')).code).toBe(0);
    });
  });

  describe('verify refuses each kind of bad license with its own exit code and reason', () => {
    const good = () => readFileSync(join(dir, 'license.key'), 'utf8');

    it('expired: exit 2', async () => {
      await run('issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Contoso Ltd', '--issued', '2020-01-01', '--expires', '2020-12-31', '--out', 'expired.key');
      const result = await verify('expired.key');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^license: EXPIRED: license [0-9a-f-]{36} for "Contoso Ltd" expired on 2020-12-31T23:59:59\.000Z\n$/);
    });

    it('not yet valid: exit 3', async () => {
      await run('issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Contoso Ltd', '--issued', '2099-01-01', '--expires', '+30', '--out', 'future.key');
      const result = await verify('future.key');
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('license: NOT YET VALID: ');
      expect(result.stderr).toContain('is valid from 2099-01-01T00:00:00.000Z');
    });

    it('forged (content changed after signing): exit 4', async () => {
      writeFileSync(join(dir, 'forged.key'), good().replace('"connectors":null', '"connectors":999').replace('"Contoso Ltd"', '"Contoso Ltd."'));
      const result = await verify('forged.key');
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('license: INVALID (bad signature): the signature does not match the license\'s content');
      expect(result.stderr).toContain('altered after it was issued, or forged');
    });

    it('signed by another key: exit 5, naming the signing key and the trusted one', async () => {
      await run('issue', '--key', 'stranger/vendor-private.pem', '--customer', 'Contoso Ltd', '--expires', '+365', '--out', 'wrong-key.key');
      const result = await verify('wrong-key.key');
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/^license: INVALID \(untrusted key\): the license is signed by key [0-9a-f]{16}, which is not trusted here; the trusted key\(s\) are [0-9a-f]{16}\n$/);
    });

    it('truncated: exit 6', async () => {
      writeFileSync(join(dir, 'truncated.key'), good().slice(0, 150));
      const result = await verify('truncated.key');
      expect(result.code).toBe(6);
      expect(result.stderr).toContain('license: INVALID (malformed): the license file is malformed: ');
      expect(result.stderr).toContain('truncated');
      const shown = await run('show', 'truncated.key');
      expect(shown.code).toBe(6);
    });

    it('not a license file at all: exit 6', async () => {
      const result = await verify('vendor/vendor-public.pem');
      expect(result.code).toBe(6);
      expect(result.stderr).toContain('this is not an IdentityMesh license file');
    });

    it('no such file: exit 66, for verify and show', async () => {
      const result = await verify('nowhere.key');
      expect(result.code).toBe(66);
      expect(result.stderr).toBe(`license: MISSING: there is no license file at ${join(dir, 'nowhere.key')}\n`);
      expect((await run('show', 'nowhere.key')).code).toBe(66);
    });

    it('gives forged, truncated, wrong-key and expired four distinct exit codes and reasons', async () => {
      const results = await Promise.all(['forged.key', 'truncated.key', 'wrong-key.key', 'expired.key'].map((file) => verify(file)));
      expect(new Set(results.map((r) => r.code)).size).toBe(4);
      expect(new Set(results.map((r) => r.stderr.split(':')[1])).size).toBe(4);
    });
  });

  describe('key files that do not fit the command', () => {
    it('verify refuses a private key as --public-key (exit 65): the product side never holds one', async () => {
      const result = await verify('license.key', 'vendor/vendor-private.pem');
      expect(result.code).toBe(65);
      expect(result.stderr).toContain('license: --public-key vendor/vendor-private.pem: holds a private key');
    });

    it('verify names a --public-key that is neither a file nor a key (exit 65)', async () => {
      const result = await verify('license.key', 'missing.pem');
      expect(result.code).toBe(65);
      expect(result.stderr).toContain(`is neither a readable PEM file (nothing at ${join(dir, 'missing.pem')})`);
    });

    it('issue refuses a public key as --key (exit 65) and a missing key file (exit 66)', async () => {
      const publicKey = await run('issue', '--key', 'vendor/vendor-public.pem', '--customer', 'X', '--expires', '+1', '--out', 'x.key');
      expect(publicKey.code).toBe(65);
      expect(publicKey.stderr).toContain("holds a public key; issuing needs the vendor's private key (vendor-private.pem)");
      const missing = await run('issue', '--key', 'nowhere.pem', '--customer', 'X', '--expires', '+1', '--out', 'x.key');
      expect(missing.code).toBe(66);
      expect(missing.stderr).toContain(`there is no private key file at ${join(dir, 'nowhere.pem')}`);
      expect(existsSync(join(dir, 'x.key'))).toBe(false);
    });

    it('issue refuses a file that is not a key (exit 65)', async () => {
      const result = await run('issue', '--key', 'license.key', '--customer', 'X', '--expires', '+1', '--out', 'x.key');
      expect(result.code).toBe(65);
      expect(result.stderr).toContain('is not a PEM private key');
    });
  });

  describe('usage errors: exit 64 with the usage text', () => {
    it.each([
      [[], 'a command is required'],
      [['renew'], 'unknown command "renew"'],
      [['keygen'], 'keygen needs --out <dir>'],
      [['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'X', '--out', 'x.key'], 'issue needs --expires <date|+days>'],
      [['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'X', '--expires', 'soon', '--out', 'x.key'], '--expires soon is not a date'],
      [['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'X', '--expires', '+1', '--connectors', '-1', '--out', 'x.key'], '--connectors -1 must be a whole number above 0'],
      [['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'X', '--expires', '+1', '--objects', '1.5', '--out', 'x.key'], '--objects 1.5 must be a whole number above 0'],
      [['verify', 'license.key'], 'verify needs --public-key'],
      [['show'], 'show takes <file>'],
      [['show', 'license.key', '--reveal'], 'unknown option --reveal'],
    ])('%j: %s', async (argv, message) => {
      const result = await run(...argv);
      expect(result.code).toBe(64);
      expect(result.stderr).toContain(`license: ${message}`);
      expect(result.stderr).toContain('Usage: license <command> [options]');
      expect(result.stdout).toBe('');
    });

    it('prints the usage on help, with exit 0', async () => {
      const result = await run('help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: license <command> [options]');
    });
  });
});
