import { SECRET_PROVIDERS, SecretProviderName } from '@identitymesh/domain';

export type SecretsCliCommand =
  | { name: 'help' }
  | { name: 'set'; reference: string; value?: string }
  | { name: 'rotate'; reference: string; value?: string }
  | { name: 'get'; reference: string; reveal: boolean }
  | { name: 'list'; json: boolean }
  | { name: 'delete'; reference: string }
  | { name: 'rewrap'; to: SecretProviderName; fromHostKeyFile?: string; fromSharedKeyFile?: string };

export const USAGE = `Usage: secretscli <command> [options]

Commands:
  set <reference> [value]     store a secret (new version if it exists); the value is read
                              from stdin when omitted (prompted without echo on a terminal)
  rotate <reference> [value]  replace the value of an existing secret (new version)
  get <reference> --reveal    print the value; refused without --reveal
  list [--json]               references, providers, key ids and versions (never values)
  delete <reference>          remove a secret
  rewrap --to <provider>      re-encrypt every secret under the configured key of <provider>
         [--from-host-key-file <path>] [--from-shared-key-file <path>]
                              open the old secrets with this key file (a host move, a key rotation)

Providers: ${SECRET_PROVIDERS.join(', ')}. Settings come from the same IM_* environment
(IM_DATA_DIR, IM_DB_*, IM_SECRETS_*) and IM_CONFIG_FILE as the services.

Exit codes: 0 ok, 64 usage, 65 bad input, 66 not found, 69 cannot be decrypted or
provider unusable, 78 configuration, 1 anything else.`;

/** A command line that can't be understood; the message says what was expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses argv (without node and the script). Throws UsageError. */
export function parseArguments(argv: string[]): SecretsCliCommand {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('a command is required');
  if (name === 'help' || name === '--help' || name === '-h') return { name: 'help' };
  const { positional, flags } = split(rest, VALUE_FLAGS[name] ?? [], BOOLEAN_FLAGS[name] ?? []);
  switch (name) {
    case 'set':
    case 'rotate': {
      expectPositional(name, positional, 1, 2, '<reference> [value]');
      return { name, reference: positional[0], value: positional[1] };
    }
    case 'get':
      expectPositional(name, positional, 1, 1, '<reference>');
      return { name, reference: positional[0], reveal: flags.has('--reveal') };
    case 'list':
      expectPositional(name, positional, 0, 0, '');
      return { name, json: flags.has('--json') };
    case 'delete':
      expectPositional(name, positional, 1, 1, '<reference>');
      return { name, reference: positional[0] };
    case 'rewrap': {
      expectPositional(name, positional, 0, 0, '');
      const to = flags.get('--to');
      if (to === undefined) throw new UsageError('rewrap needs --to <provider>');
      if (!(SECRET_PROVIDERS as readonly string[]).includes(to)) {
        throw new UsageError(`--to ${to} is not a provider; use one of ${SECRET_PROVIDERS.join(', ')}`);
      }
      return { name, to: to as SecretProviderName, fromHostKeyFile: flags.get('--from-host-key-file'), fromSharedKeyFile: flags.get('--from-shared-key-file') };
    }
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

const VALUE_FLAGS: Record<string, string[]> = { rewrap: ['--to', '--from-host-key-file', '--from-shared-key-file'] };
const BOOLEAN_FLAGS: Record<string, string[]> = { get: ['--reveal'], list: ['--json'] };

function split(args: string[], valueFlags: string[], booleanFlags: string[]) {
  const positional: string[] = [];
  const flags = new Map<string, string>();
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
    if (valueFlags.includes(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
      flags.set(flag, value);
    } else if (booleanFlags.includes(flag) && eq < 0) {
      flags.set(flag, 'true');
    } else {
      // Named without its value: an unknown flag may be a mistyped --reveal followed by a secret.
      throw new UsageError(`unknown option ${flag}`);
    }
  }
  return { positional, flags };
}

function expectPositional(command: string, positional: string[], min: number, max: number, shape: string): void {
  if (positional.length < min || positional.length > max) {
    throw new UsageError(`${command} takes ${shape || 'no arguments'}${positional.length > max ? `; got ${positional.length} arguments` : ''}`);
  }
}
