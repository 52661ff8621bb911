import { createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { assertUnreachable } from '@identitymesh/domain';
import {
  describeLicense,
  issueLicense,
  keyIdOf,
  LicenseError,
  LicenseErrorCode,
  LicensePayload,
  parseLicense,
  parseTrustedKeys,
  publicKeyToBase64,
  readTextIfPresent,
  TrustedKey,
  TrustedKeyError,
  verifyLicense,
} from '@identitymesh/license';
import { LicenseCliCommand, parseArguments, USAGE, UsageError } from './arguments';
import { CLI_EXIT } from './exit-codes';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliContext {
  /** Relative paths resolve against this folder. */
  cwd: string;
  now: () => Date;
}

export const PRIVATE_KEY_FILE = 'vendor-private.pem';
export const PUBLIC_KEY_FILE = 'vendor-public.pem';

/** A failure with its exit code and a message for the operator; never shown with a stack. */
class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one command line and returns the exit code; never throws and never prints a stack trace. */
export function runLicenseCli(argv: string[], io: CliIo, context: CliContext): number {
  let command: LicenseCliCommand;
  try {
    command = parseArguments(argv, context.now());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`license: ${error.message}\n\n${USAGE}\n`);
    return CLI_EXIT.usage;
  }
  try {
    switch (command.name) {
      case 'help':
        io.out(`${USAGE}\n`);
        return CLI_EXIT.ok;
      case 'keygen':
        return keygen(command.out, io, context);
      case 'issue':
        return issue(command, io, context);
      case 'verify':
        return verify(command, io, context);
      case 'show':
        return show(command, io, context);
      default:
        return assertUnreachable(command);
    }
  } catch (error) {
    if (error instanceof CliFailure) {
      io.err(`license: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof LicenseError) {
      io.err(`license: ${verdict(error.code)}: ${error.message}\n`);
      return exitCodeFor(error.code);
    }
    io.err(`license: ${(error as Error)?.message ?? String(error)}\n`);
    return CLI_EXIT.failure;
  }
}

function keygen(out: string, io: CliIo, context: CliContext): number {
  const dir = resolve(context.cwd, out);
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  for (const path of [privatePath, publicPath]) {
    if (existsSync(path)) {
      throw new CliFailure(
        CLI_EXIT.cantCreate,
        `refusing to overwrite ${path}: licenses signed by that key pair would stop verifying under a new one. Choose another --out folder, or move the old files away yourself`,
      );
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // 'wx' fails instead of replacing a file created since the check above.
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    // The mode of a new file is filtered by the umask; the private key must end up owner-only whatever it is.
    chmodSync(privatePath, 0o600);
    try {
      writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
    } catch (error) {
      // Half a key pair is worse than none: the next keygen would refuse to run.
      rmSync(privatePath, { force: true });
      throw error;
    }
  } catch (error) {
    throw new CliFailure(CLI_EXIT.cantCreate, `cannot write the key pair into ${dir}: ${(error as Error).message}`);
  }
  io.out(
    [
      `wrote ${privatePath} (mode 0600; it issues licenses: keep it on the vendor's side, never on a product host)`,
      `wrote ${publicPath}`,
      `key id ${keyIdOf(publicKey)}`,
      `product hosts trust it with IM_LICENSE_PUBLIC_KEYS=${publicPath}`,
      `  or, without copying the file: IM_LICENSE_PUBLIC_KEYS=${publicKeyToBase64(publicKey)}`,
      '',
    ].join('\n'),
  );
  return CLI_EXIT.ok;
}

function issue(command: Extract<LicenseCliCommand, { name: 'issue' }>, io: CliIo, context: CliContext): number {
  const privateKey = readPrivateKey(resolve(context.cwd, command.key));
  const out = resolve(context.cwd, command.out);
  if (existsSync(out) && !command.force) {
    throw new CliFailure(CLI_EXIT.cantCreate, `refusing to overwrite ${out}; add --force to replace it (a running app picks the new license up without a restart)`);
  }
  const text = issueLicense({
    privateKey,
    customer: command.customer,
    issuedAt: command.issuedAt,
    expiresAt: command.expiresAt,
    limits: { connectors: command.connectors, objects: command.objects },
    evaluation: command.evaluation,
  });
  writeAtomically(out, text);
  const payload = parseLicense(text).payload;
  io.out(`issued ${describeLicense(payload)} to ${out}\n${details(payload, context.now())}\n`);
  return CLI_EXIT.ok;
}

function verify(command: Extract<LicenseCliCommand, { name: 'verify' }>, io: CliIo, context: CliContext): number {
  const trusted = trustedKeys(command.publicKeys, context.cwd);
  const file = resolve(context.cwd, command.file);
  const text = readLicenseFile(file);
  const payload = verifyLicense(text, trusted, context.now());
  const key = trusted.find((k) => k.keyId === payload.keyId);
  io.out(`valid: ${describeLicense(payload)}, signed by trusted key ${payload.keyId} (${key?.source ?? 'given'})\n${details(payload, context.now())}\n`);
  return CLI_EXIT.ok;
}

function show(command: Extract<LicenseCliCommand, { name: 'show' }>, io: CliIo, context: CliContext): number {
  const file = resolve(context.cwd, command.file);
  const { payload } = parseLicense(readLicenseFile(file));
  if (command.json) {
    io.out(`${JSON.stringify({ verified: false, ...payload }, null, 2)}\n`);
  } else {
    io.out(
      `UNVERIFIED: what ${basename(file)} says; its signature was NOT checked (run \`license verify\` with the vendor's public key for that)\n${details(payload, context.now())}\n`,
    );
  }
  return CLI_EXIT.ok;
}

/** The payload as aligned lines, the same for issue, verify and show. */
function details(payload: LicensePayload, now: Date): string {
  const limit = (value: number | null) => (value === null ? 'no limit' : String(value));
  const expired = now.getTime() > Date.parse(payload.expiresAt);
  return [
    ['license id', payload.licenseId],
    ['customer', payload.customer],
    ['issued', payload.issuedAt],
    ['expires', `${payload.expiresAt}${expired ? ' (expired)' : ''}`],
    ['connectors', limit(payload.limits.connectors)],
    ['objects', limit(payload.limits.objects)],
    ['evaluation', payload.evaluation ? 'yes (EVALUATION license)' : 'no'],
    ['signed by', `key ${payload.keyId}`],
  ]
    .map(([label, value]) => `  ${label.padEnd(11)} ${value}`)
    .join('\n');
}

function readLicenseFile(file: string): string {
  let text: string | undefined;
  try {
    text = readTextIfPresent(file);
  } catch (error) {
    throw new CliFailure(CLI_EXIT.noInput, `cannot read ${file}: ${(error as Error).message}`);
  }
  if (text === undefined) throw new LicenseError('LICENSE_MISSING', `there is no license file at ${file}`);
  return text;
}

function readPrivateKey(path: string): KeyObject {
  let pem: string | undefined;
  try {
    pem = readTextIfPresent(path);
  } catch (error) {
    throw new CliFailure(CLI_EXIT.noInput, `cannot read the private key ${path}: ${(error as Error).message}`);
  }
  if (pem === undefined) throw new CliFailure(CLI_EXIT.noInput, `there is no private key file at ${path} (keygen writes ${PRIVATE_KEY_FILE})`);
  if (/-----BEGIN PUBLIC KEY-----/.test(pem)) {
    throw new CliFailure(CLI_EXIT.dataError, `${path} holds a public key; issuing needs the vendor's private key (${PRIVATE_KEY_FILE})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new CliFailure(CLI_EXIT.dataError, `${path} is not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CliFailure(CLI_EXIT.dataError, `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; licenses are signed with Ed25519 (make one with keygen)`);
  }
  return key;
}

function trustedKeys(entries: string[], cwd: string): TrustedKey[] {
  try {
    const keys = entries.flatMap((entry) => parseTrustedKeys(entry, { baseDir: cwd, readFile: readTextIfPresent }));
    return keys.filter((key, index) => keys.findIndex((k) => k.keyId === key.keyId) === index);
  } catch (error) {
    if (error instanceof TrustedKeyError) throw new CliFailure(CLI_EXIT.dataError, `--public-key ${error.message}`);
    throw error;
  }
}

/** Through a temporary file and a rename, so a running app that watches the file never reads half a license. */
function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliFailure(CLI_EXIT.cantCreate, `cannot write ${path}: ${(error as Error).message}`);
  }
}

function verdict(code: LicenseErrorCode): string {
  switch (code) {
    case 'LICENSE_MISSING':
      return 'MISSING';
    case 'LICENSE_MALFORMED':
      return 'INVALID (malformed)';
    case 'LICENSE_UNTRUSTED_KEY':
      return 'INVALID (untrusted key)';
    case 'LICENSE_SIGNATURE_INVALID':
      return 'INVALID (bad signature)';
    case 'LICENSE_EXPIRED':
      return 'EXPIRED';
    case 'LICENSE_NOT_YET_VALID':
      return 'NOT YET VALID';
    default:
      return assertUnreachable(code);
  }
}

export function exitCodeFor(code: LicenseErrorCode): number {
  switch (code) {
    case 'LICENSE_MISSING':
      return CLI_EXIT.noInput;
    case 'LICENSE_MALFORMED':
      return CLI_EXIT.malformed;
    case 'LICENSE_UNTRUSTED_KEY':
      return CLI_EXIT.untrustedKey;
    case 'LICENSE_SIGNATURE_INVALID':
      return CLI_EXIT.signatureInvalid;
    case 'LICENSE_EXPIRED':
      return CLI_EXIT.expired;
    case 'LICENSE_NOT_YET_VALID':
      return CLI_EXIT.notYetValid;
    default:
      return assertUnreachable(code);
  }
}
