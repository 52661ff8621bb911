import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { DomainError } from '@identitymesh/domain';
import { ConfigError } from '../config/config-error';
import type { CommonConfig } from '../config/shared-settings';
import { createProductLogger, PinoNestLogger, ProductLogger } from '../logging/logger';
import { EXIT_CODES } from './exit-codes';

export interface ServiceDefinition<C extends CommonConfig> {
  /** Reads and validates the app's configuration; throws ConfigError. */
  loadConfig(): C;
  /** The root module, built for this configuration. */
  rootModule(config: C, logger: Logger): Type<unknown> | Promise<Type<unknown>>;
  /** Where the HTTP endpoints (health, metrics, API) listen. */
  port(config: C): number;
  /** Called after the app listens, to tell the operator what runs where. */
  describe?(config: C): Record<string, unknown>;
  /** Commands other than starting the service (`main.js migrate`). */
  commands?: Record<string, (config: C, logger: Logger) => Promise<void>>;
}

/**
 * Starts one IdentityMesh service: validated config, JSON logs, Nest app,
 * and a shutdown on SIGTERM/SIGINT that stops taking work, lets the app's
 * shutdown hooks finish or roll back, closes connections, logs `shutdown
 * complete` and exits 0.
 */
export async function startService<C extends CommonConfig>(definition: ServiceDefinition<C>, argv = process.argv.slice(2)): Promise<void> {
  let config: C;
  try {
    config = definition.loadConfig();
  } catch (error) {
    reportStartupFailure(error);
    return;
  }

  let log: ProductLogger;
  try {
    log = createProductLogger(config.app, config.log);
  } catch (error) {
    process.stderr.write(`cannot open the log directory ${config.log.dir}: ${(error as Error).message}\n`);
    process.exit(EXIT_CODES.failure);
  }
  const logger = log.logger;

  const command = argv[0];
  if (command) {
    const run = definition.commands?.[command];
    if (!run) {
      logger.fatal({ command, known: Object.keys(definition.commands ?? {}) }, `unknown command "${command}"`);
      log.close();
      process.exit(EXIT_CODES.config);
    }
    try {
      await run(config, logger);
      log.close();
      process.exit(EXIT_CODES.ok);
    } catch (error) {
      logFailure(logger, `${command} failed`, error);
      log.close();
      process.exit(EXIT_CODES.failure);
    }
  }

  logger.info({ version: config.version, dataDir: config.dataDir, clusterMode: config.clusterMode, logFile: log.file.currentFile() }, `${config.app} starting`);

  let app: INestApplication;
  try {
    const module = await definition.rootModule(config, logger);
    app = await NestFactory.create(module, {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
      forceCloseConnections: true,
    });
    await app.listen(definition.port(config), config.bindAddress);
  } catch (error) {
    logFailure(logger, `${config.app} could not start`, error);
    log.close();
    process.exit(error instanceof ConfigError ? EXIT_CODES.config : EXIT_CODES.failure);
  }

  const url = `http://${config.bindAddress.includes(':') ? `[${config.bindAddress}]` : config.bindAddress}:${definition.port(config)}`;
  logger.info({ url, ...(definition.describe?.(config) ?? {}) }, `${config.app} listening on ${url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown requested: no new work is taken');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting with work unfinished (it is rolled back by the database)');
      log.close();
      process.exit(EXIT_CODES.shutdownTimeout);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      await app.close();
      logger.info({ signal }, 'shutdown complete');
      log.close();
      process.exit(EXIT_CODES.ok);
    } catch (error) {
      logFailure(logger, 'shutdown failed', error);
      log.close();
      process.exit(EXIT_CODES.failure);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const) {
    process.on(signal, () => void stop(signal));
  }
}

function logFailure(logger: Logger, message: string, error: unknown): void {
  if (error instanceof DomainError) {
    logger.fatal({ code: error.code, details: error.details }, `${message}: ${error.message}`);
  } else {
    logger.fatal({ err: error }, `${message}: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** Before a logger exists the only honest channel is stderr. */
function reportStartupFailure(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`IdentityMesh cannot start: ${error.message}\n`);
    process.stderr.write(`${JSON.stringify({ level: 'fatal', code: error.code, problems: error.problems, msg: error.message })}\n`);
    process.exit(EXIT_CODES.config);
  }
  process.stderr.write(`IdentityMesh cannot start: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(EXIT_CODES.failure);
}
