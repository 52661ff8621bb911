export type LicenseCliCommand =
  | { name: 'help' }
  | { name: 'keygen'; out: string }
  | {
      name: 'issue';
      key: string;
      customer: string;
      issuedAt: Date;
      expiresAt: Date;
      connectors: number | null;
      objects: number | null;
      evaluation: boolean;
      out: string;
      force: boolean;
    }
  | { name: 'verify'; file: string; publicKeys: string[] }
  | { name: 'show'; file: string; json: boolean };

export const USAGE = `Usage: license <command> [options]

Commands:
  keygen --out <dir>            create the vendor's Ed25519 key pair: <dir>/vendor-private.pem (mode 0600;
                                it issues licenses and never goes on a product host) and <dir>/vendor-public.pem
                                (what product hosts trust); never overwrites either
  issue --key <private.pem> --customer <name> --expires <date|+days> --out <file>
        [--connectors <n>] [--objects <n>] [--evaluation] [--issued <date>] [--force]
                                sign a license; no --connectors/--objects means no limit; --expires takes
                                2026-12-31 (valid through that day, UTC), an ISO time with a zone, or +365
                                (days after --issued, which defaults to now); --force replaces an existing file
  verify <file> --public-key <pem|base64> [--public-key …]
                                check format, signature, trusted key and dates; prints why a license is refused
  show <file> [--json]          print what the license says WITHOUT checking its signature

Exit codes: 0 ok (verify: the license is valid), 2 expired, 3 not yet valid, 4 signature invalid
(altered or forged), 5 signed by a key that is not trusted, 6 malformed (truncated, damaged),
64 usage, 65 unusable key file, 66 file not found, 73 would overwrite or cannot write, 1 anything else.`;

/** A command line that can't be understood; the message says what was expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const DAY_MS = 86_400_000;
/** Long enough for any perpetual-style license, short enough to catch a typo of an extra digit or three. */
const MAX_DAYS = 36_500;

/** Parses argv (without node and the script). `now` is the default issue time. Throws UsageError. */
export function parseArguments(argv: string[], now: Date): LicenseCliCommand {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('a command is required');
  if (name === 'help' || name === '--help' || name === '-h') return { name: 'help' };
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command "${name}"`);
  const { positional, values, booleans } = split(rest, spec);
  switch (name) {
    case 'keygen':
      expectPositional(name, positional, 0, '');
      return { name, out: required(name, values, '--out', '<dir>') };
    case 'issue': {
      expectPositional(name, positional, 0, '');
      const key = required(name, values, '--key', '<private.pem>');
      const customer = required(name, values, '--customer', '<name>').trim();
      if (!customer) throw new UsageError('--customer must not be blank');
      const expires = required(name, values, '--expires', '<date|+days>');
      const out = required(name, values, '--out', '<file>');
      const issued = values.get('--issued')?.[0];
      const issuedAt = issued === undefined ? now : parseInstant('--issued', issued, 'start');
      const expiresAt = parseExpiry(expires, issuedAt);
      if (expiresAt.getTime() <= issuedAt.getTime()) {
        throw new UsageError(`--expires ${expires} (${expiresAt.toISOString()}) is not after the issue time ${issuedAt.toISOString()}`);
      }
      return {
        name,
        key,
        customer,
        issuedAt,
        expiresAt,
        connectors: parseLimit('--connectors', values.get('--connectors')?.[0]),
        objects: parseLimit('--objects', values.get('--objects')?.[0]),
        evaluation: booleans.has('--evaluation'),
        out,
        force: booleans.has('--force'),
      };
    }
    case 'verify': {
      expectPositional(name, positional, 1, '<file>');
      const publicKeys = values.get('--public-key') ?? [];
      if (publicKeys.length === 0) throw new UsageError("verify needs --public-key <pem|base64>: the vendor's public key the license must be signed with");
      return { name, file: positional[0], publicKeys };
    }
    case 'show':
      expectPositional(name, positional, 1, '<file>');
      return { name, file: positional[0], json: booleans.has('--json') };
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

interface CommandSpec {
  values: string[];
  /** Value flags that may be given more than once. */
  repeatable?: string[];
  booleans: string[];
}

const COMMANDS: Record<string, CommandSpec> = {
  keygen: { values: ['--out'], booleans: [] },
  issue: { values: ['--key', '--customer', '--expires', '--issued', '--connectors', '--objects', '--out'], booleans: ['--evaluation', '--force'] },
  verify: { values: ['--public-key'], repeatable: ['--public-key'], booleans: [] },
  show: { values: [], booleans: ['--json'] },
};

function split(args: string[], spec: CommandSpec) {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const booleans = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (spec.values.includes(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      const seen = values.get(flag) ?? [];
      if (seen.length > 0 && !spec.repeatable?.includes(flag)) throw new UsageError(`${flag} is given twice`);
      values.set(flag, [...seen, value]);
    } else if (spec.booleans.includes(flag) && eq < 0) {
      booleans.add(flag);
    } else {
      throw new UsageError(`unknown option ${flag}`);
    }
  }
  return { positional, values, booleans };
}

function required(command: string, values: Map<string, string[]>, flag: string, shape: string): string {
  const value = values.get(flag)?.[0];
  if (value === undefined) throw new UsageError(`${command} needs ${flag} ${shape}`);
  return value;
}

function expectPositional(command: string, positional: string[], count: number, shape: string): void {
  if (positional.length !== count) {
    throw new UsageError(`${command} takes ${shape || 'no arguments'}${positional.length > count ? `; got ${positional.length} arguments` : ''}`);
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A calendar date or a zoned ISO time. A bare date means the start of that
 * day (UTC) as an issue date and its last second as an expiry date, so
 * "expires 2026-12-31" keeps the license usable through the 31st.
 */
function parseInstant(flag: string, text: string, edge: 'start' | 'end'): Date {
  const date = DATE.exec(text);
  if (date) {
    const [, y, m, d] = date.map(Number);
    const instant = new Date(Date.UTC(y, m - 1, d, edge === 'end' ? 23 : 0, edge === 'end' ? 59 : 0, edge === 'end' ? 59 : 0));
    if (instant.getUTCFullYear() !== y || instant.getUTCMonth() !== m - 1 || instant.getUTCDate() !== d) throw new UsageError(`${flag} ${text} is not a calendar date`);
    return instant;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !ZONED_TIME.test(text)) {
    throw new UsageError(`${flag} ${text} needs a time zone (Z or +01:00): a license is read on hosts in other zones`);
  }
  if (ZONED_TIME.test(text) && !Number.isNaN(Date.parse(text))) return new Date(Date.parse(text));
  throw new UsageError(`${flag} ${text} is not a date: use 2026-12-31, 2026-12-31T18:00:00Z${flag === '--expires' ? ' or +365 (days)' : ''}`);
}

function parseExpiry(text: string, issuedAt: Date): Date {
  const relative = /^\+(\d+)d?$/.exec(text);
  if (!relative) return parseInstant('--expires', text, 'end');
  const days = Number(relative[1]);
  if (days < 1 || days > MAX_DAYS) throw new UsageError(`--expires ${text}: the number of days must be between 1 and ${MAX_DAYS}`);
  return new Date(issuedAt.getTime() + days * DAY_MS);
}

function parseLimit(flag: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} ${text} must be a whole number above 0 (leave it out for no limit)`);
  return Number(text);
}
