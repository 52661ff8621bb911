import type { RelayCommand, RelayCommandReply } from '@identitymesh/connector-sdk';
import { assertUnreachable } from '@identitymesh/domain';
import type { LogLevel } from '@identitymesh/platform';
import type { RelayAgentConfig } from '../config/relay-agent.config';

export interface RelayCommandsOptions {
  config: RelayAgentConfig;
  /** Reads the configuration again (environment and IM_CONFIG_FILE); throws ConfigError. */
  reload: () => RelayAgentConfig;
  applyLogLevel: (level: LogLevel) => void;
  itemsInHand: () => number;
  now?: () => Date;
}

/** Settings read once at start: a changed value is reported, and applies after a restart. */
const RESTART_SETTINGS: Array<[setting: string, read: (config: RelayAgentConfig) => unknown]> = [
  ['IM_HUB_URL', (c) => c.hubUrl],
  ['IM_RELAY_NAME', (c) => c.name],
  ['IM_RELAY_PORT', (c) => c.port],
  ['IM_BIND_ADDRESS', (c) => c.bindAddress],
  ['IM_RELAY_MAX_CONCURRENT_ITEMS', (c) => c.maxConcurrentItems],
  ['IM_SHUTDOWN_TIMEOUT_MS', (c) => c.shutdownTimeoutMs],
  ['IM_RELAY_SECRETS_FILE', (c) => c.secretsFile],
  ['IM_SECRETS_PROVIDER', (c) => c.secrets.provider],
  ['IM_DATA_DIR', (c) => c.dataDir],
];

/** The operator's commands that reach this relay through the hub (`POST /api/relays/{id}/commands`). */
export class RelayCommands {
  private readonly startedAt: Date;
  private logLevel: LogLevel;
  private readonly now: () => Date;

  constructor(private readonly options: RelayCommandsOptions) {
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now();
    this.logLevel = options.config.log.level;
  }

  async handle(command: RelayCommand): Promise<RelayCommandReply> {
    switch (command.kind) {
      case 'ping':
        return this.ping();
      case 'reload-config':
        return this.reloadConfig();
      default:
        return assertUnreachable(command.kind);
    }
  }

  private ping(): RelayCommandReply {
    const { config } = this.options;
    const upSeconds = Math.round((this.now().getTime() - this.startedAt.getTime()) / 1000);
    return { ok: true, detail: `relay ${config.name} on ${config.host}, version ${config.version}, up ${upSeconds} s, ${this.options.itemsInHand()} work item(s) in hand` };
  }

  private reloadConfig(): RelayCommandReply {
    let next: RelayAgentConfig;
    try {
      next = this.options.reload();
    } catch (error) {
      return { ok: false, detail: `the configuration was not reloaded: ${(error as Error).message}` };
    }
    const applied: string[] = [];
    if (next.log.level !== this.logLevel) {
      this.options.applyLogLevel(next.log.level);
      applied.push(`IM_LOG_LEVEL ${this.logLevel} -> ${next.log.level}`);
      this.logLevel = next.log.level;
    }
    const needRestart = RESTART_SETTINGS.filter(([, read]) => read(next) !== read(this.options.config)).map(([name]) => name);
    const parts = [applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing changed that applies without a restart'];
    if (needRestart.length > 0) parts.push(`changed, applies after a restart: ${needRestart.join(', ')}`);
    return { ok: true, detail: parts.join('; ') };
  }
}
