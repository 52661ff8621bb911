import { Logger } from '@nestjs/common';

/** Structured log lines of the agent's parts; plain so they run without Nest in tests. */
export interface RelayLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Lines into the process's JSON log (through Nest's logger, which writes to pino), each with its context. */
export function nestRelayLogger(context: string, base: Record<string, unknown> = {}): RelayLogger {
  const logger = new Logger(context);
  return {
    debug: (message, fields) => logger.debug({ ...base, ...fields, msg: message }),
    info: (message, fields) => logger.log({ ...base, ...fields, msg: message }),
    warn: (message, fields) => logger.warn({ ...base, ...fields, msg: message }),
    error: (message, fields) => logger.error({ ...base, ...fields, msg: message }),
  };
}
