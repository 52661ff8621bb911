import { hostname, userInfo } from 'node:os';
import type { DataSource } from 'typeorm';
import { DomainError } from '@identitymesh/domain';
import type { RawSettings } from '@identitymesh/platform';
import { AuditRepository, openDatabase, SecretRepository } from '@identitymesh/persistence';
import { createSecretProvider, SecretDescription, SecretProviders, SecretSettings, SecretStore } from '@identitymesh/secrets';
import { parseArguments, SecretsCliCommand, USAGE, UsageError } from './arguments';
import { CLI_EXIT } from './exit-codes';
import { assertProvidersConfigured, loadSecretsCliConfig } from './secretscli.config';
import { PromptInterruptedError, stripFinalNewline, ValueInput } from './value-input';

/** Values above this are refused: a credential is short, and the ciphertext must fit every dialect's text column. */
export const MAX_SECRET_VALUE_BYTES = 16 * 1024;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  input: ValueInput;
}

export interface CliEnvironment {
  env: RawSettings;
  cwd: string;
}

/** Runs one secretscli command line and returns the exit code; never throws and never prints a stack trace. */
export async function runSecretsCli(argv: string[], io: CliIo, context: CliEnvironment): Promise<number> {
  let command: SecretsCliCommand;
  try {
    command = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`secretscli: ${error.message}\n\n${USAGE}\n`);
    return CLI_EXIT.usage;
  }
  if (command.name === 'help') {
    io.out(`${USAGE}\n`);
    return CLI_EXIT.ok;
  }
  if (command.name === 'get' && !command.reveal) {
    io.err(`secretscli: refusing to print the value of ${command.reference} without --reveal (it would land in terminals, logs and scrollback)\n`);
    return CLI_EXIT.usage;
  }
  let dataSource: DataSource | undefined;
  try {
    const config = loadSecretsCliConfig(context.env, context.cwd);
    assertProvidersConfigured(config.secrets, command.name === 'rewrap' ? [command.to] : [config.secrets.provider]);
    // Read before connecting, so a prompt is never left waiting on an open database connection.
    const value = command.name === 'set' || command.name === 'rotate' ? await readValue(command.reference, command.value, io) : undefined;
    ({ dataSource } = await openDatabase(config.database, { autoMigrate: config.database.autoMigrate }));
    return await execute(command, value, new CommandContext(dataSource, config.secrets, io));
  } catch (error) {
    return report(error, io);
  } finally {
    await dataSource?.destroy();
  }
}

class CommandContext {
  readonly audit: AuditRepository;
  readonly actor = operatorName();

  constructor(
    readonly dataSource: DataSource,
    readonly settings: SecretSettings,
    readonly io: CliIo,
  ) {
    this.audit = new AuditRepository(dataSource);
  }

  store(settings: SecretSettings = this.settings): SecretStore {
    return new SecretStore(new SecretRepository(this.dataSource), new SecretProviders(settings));
  }

  /** Secret changes are audited like any other operator change; the value is never part of the entry. */
  async record(action: string, targetId: string, after: SecretDescription | Record<string, string | number> | null, before: SecretDescription | null = null): Promise<void> {
    await this.audit.append([
      { actorType: 'operator', actor: this.actor, action, targetType: 'secret', targetId, before: before && describeForAudit(before), after: after && ('reference' in after ? describeForAudit(after as SecretDescription) : after) },
    ]);
  }
}

async function execute(command: Exclude<SecretsCliCommand, { name: 'help' }>, value: string | undefined, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  switch (command.name) {
    case 'set':
    case 'rotate': {
      const store = ctx.store();
      const before = await store.describe(command.reference).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'SECRET_NOT_FOUND') return null;
        throw error;
      });
      const saved = command.name === 'set' ? await store.set(command.reference, value as string) : await store.rotate(command.reference, value as string);
      await ctx.record(command.name === 'set' && !before ? 'secret.create' : 'secret.rotate', saved.reference, saved, before);
      io.out(`${before ? 'rotated' : 'stored'} ${saved.reference} (version ${saved.version}, ${saved.provider} key ${saved.keyId})\n`);
      return CLI_EXIT.ok;
    }
    case 'get': {
      const plain = await ctx.store().get(command.reference);
      await ctx.record('secret.reveal', command.reference, null);
      io.out(`${plain}\n`);
      return CLI_EXIT.ok;
    }
    case 'list': {
      const secrets = await ctx.store().list();
      io.out(command.json ? `${JSON.stringify(secrets.map(describeForAudit), null, 2)}\n` : formatTable(secrets));
      return CLI_EXIT.ok;
    }
    case 'delete': {
      const store = ctx.store();
      const before = await store.describe(command.reference);
      await store.delete(command.reference);
      await ctx.record('secret.delete', command.reference, null, before);
      io.out(`deleted ${command.reference}\n`);
      return CLI_EXIT.ok;
    }
    case 'rewrap': {
      // The old secrets open with the key they were made under (when given), the new ones go under the configured key of --to.
      const source: SecretSettings = {
        ...ctx.settings,
        hostKeyFile: command.fromHostKeyFile ?? ctx.settings.hostKeyFile,
        ...(command.fromSharedKeyFile ? { sharedKeyFile: command.fromSharedKeyFile, sharedKey: undefined } : {}),
      };
      const result = await ctx.store(source).rewrap(createSecretProvider(ctx.settings, command.to));
      await ctx.record('secret.rewrap', '*', { provider: result.provider, keyId: result.keyId, rewrapped: result.rewrapped, unchanged: result.unchanged });
      io.out(`rewrapped ${result.rewrapped} secret(s) to ${result.provider} key ${result.keyId}; ${result.unchanged} already there\n`);
      return CLI_EXIT.ok;
    }
  }
}

async function readValue(reference: string, given: string | undefined, io: CliIo): Promise<string> {
  let value: string;
  if (given !== undefined) {
    io.err('secretscli: warning: a value on the command line can stay in shell history and process lists; prefer stdin\n');
    value = given;
  } else if (io.input.interactive) {
    value = await io.input.prompt(`Value for ${reference}: `);
    const again = await io.input.prompt('Repeat: ');
    if (again !== value) throw new BadValueError('the two values differ; nothing was stored');
  } else {
    value = stripFinalNewline(await io.input.readAll());
  }
  if (value.length === 0) throw new BadValueError('the value is empty; nothing was stored');
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw new BadValueError(`the value is longer than ${MAX_SECRET_VALUE_BYTES} bytes; nothing was stored`);
  }
  return value;
}

class BadValueError extends Error {}

const EXIT_BY_CODE: Record<string, number> = {
  SECRET_REFERENCE_INVALID: CLI_EXIT.dataError,
  SECRET_NOT_FOUND: CLI_EXIT.notFound,
  SECRET_UNAVAILABLE: CLI_EXIT.unavailable,
  SECRET_PROVIDER_UNAVAILABLE: CLI_EXIT.unavailable,
  CONFIG_INVALID: CLI_EXIT.config,
  SCHEMA_BEHIND: CLI_EXIT.config,
  SCHEMA_AHEAD: CLI_EXIT.config,
};

function report(error: unknown, io: CliIo): number {
  if (error instanceof PromptInterruptedError) {
    io.err('secretscli: interrupted; nothing was stored\n');
    return CLI_EXIT.interrupted;
  }
  if (error instanceof BadValueError) {
    io.err(`secretscli: ${error.message}\n`);
    return CLI_EXIT.dataError;
  }
  if (error instanceof DomainError) {
    io.err(`secretscli: ${error.message}\n`);
    return EXIT_BY_CODE[error.code] ?? CLI_EXIT.failure;
  }
  // Database and file errors: the message only, the stack helps no operator.
  io.err(`secretscli: ${error instanceof Error ? error.message : String(error)}\n`);
  return CLI_EXIT.failure;
}

function describeForAudit(secret: SecretDescription): Record<string, string | number | null> {
  return {
    reference: secret.reference,
    provider: secret.provider,
    keyId: secret.keyId,
    version: secret.version,
    createdAt: secret.createdAt.toISOString(),
    rotatedAt: secret.rotatedAt?.toISOString() ?? null,
  };
}

function formatTable(secrets: SecretDescription[]): string {
  if (secrets.length === 0) return 'no secrets stored\n';
  const rows = [
    ['REFERENCE', 'PROVIDER', 'KEY ID', 'VERSION', 'CREATED', 'ROTATED'],
    ...secrets.map((s) => [s.reference, s.provider, s.keyId, String(s.version), s.createdAt.toISOString(), s.rotatedAt?.toISOString() ?? '-']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where the change came from.
    user = process.env['USER'] ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}
