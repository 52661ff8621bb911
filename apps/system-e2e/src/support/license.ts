import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WORKSPACE_ROOT } from './app-process';

export function builtLicenseTool(): string {
  const main = join(WORKSPACE_ROOT, 'dist/tools/license/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx build license-tool\` before the end-to-end tests`);
  return main;
}

/** Runs the built license tool, as a vendor does; fails with its output unless it exits with `expectedCode`. */
export function licenseTool(args: string[], options: { expectedCode?: number; main?: string; cwd?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [options.main ?? builtLicenseTool(), ...args], { cwd: options.cwd ?? WORKSPACE_ROOT, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  const run = { code: result.status, stdout: result.stdout, stderr: result.stderr };
  if (run.code !== (options.expectedCode ?? 0)) throw new Error(`license ${args.join(' ')} exited with ${run.code}:\n${run.stdout}${run.stderr}`);
  return run;
}

export interface IssueOptions {
  /** @default "Contoso" */
  customer?: string;
  /** `--issued` @default now */
  issued?: string;
  /** `--expires` @default +365 */
  expires?: string;
  connectors?: number;
  objects?: number;
  evaluation?: boolean;
}

/**
 * A throwaway license vendor: its own key pair, made by the license tool, and
 * licenses issued with it. Apps are given only the public key, as in a real
 * deployment.
 */
export class TestVendor {
  private constructor(
    readonly privateKey: string,
    readonly publicKey: string,
    readonly keyId: string,
  ) {}

  static create(dir: string): TestVendor {
    const { stdout } = licenseTool(['keygen', '--out', dir]);
    const keyId = /^key id ([0-9a-f]{16})$/m.exec(stdout)?.[1];
    if (!keyId) throw new Error(`keygen printed no key id:\n${stdout}`);
    return new TestVendor(join(dir, 'vendor-private.pem'), join(dir, 'vendor-public.pem'), keyId);
  }

  /** Issues a license into `file` (replacing it) and returns the license id. */
  issue(file: string, options: IssueOptions = {}): string {
    const args = ['issue', '--key', this.privateKey, '--customer', options.customer ?? 'Contoso', '--expires', options.expires ?? '+365', '--out', file, '--force'];
    if (options.issued) args.push('--issued', options.issued);
    if (options.connectors) args.push('--connectors', String(options.connectors));
    if (options.objects) args.push('--objects', String(options.objects));
    if (options.evaluation) args.push('--evaluation');
    const { stdout } = licenseTool(args);
    const licenseId = /^issued (?:evaluation )?license ([0-9a-f-]{36}) /.exec(stdout)?.[1];
    if (!licenseId) throw new Error(`issue printed no license id:\n${stdout}`);
    return licenseId;
  }

  /** The settings of an app that reads its license from `file` and trusts this vendor only. */
  env(file: string): Record<string, string> {
    return { IM_LICENSE_FILE: file, IM_LICENSE_PUBLIC_KEYS: this.publicKey };
  }
}

/**
 * What an app needs to be ready: a valid license under `dir` from a vendor
 * made for the test alone, and the settings pointing at both.
 */
export function licensedEnv(dir: string, options: IssueOptions = {}): Record<string, string> {
  const vendor = TestVendor.create(join(dir, 'license-vendor'));
  const file = join(dir, 'license.key');
  vendor.issue(file, options);
  return vendor.env(file);
}

/** Replaces a file the way an operator's copy should: by a rename, so a running app never reads half of it. */
export function replaceFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.tmp`);
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
