import pino, { Logger } from 'pino';
import type { LogLevel } from '@identitymesh/platform';

/**
 * Changes a running process's log level. The product logger writes through a
 * multistream whose streams each filter by the level they were made with, so
 * those move too; otherwise lowering the level to debug would change nothing.
 */
export function applyLogLevel(logger: Logger, level: LogLevel): void {
  const value = pino.levels.values[level];
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { streams?: Array<{ level: number }> } | undefined;
  for (const entry of stream?.streams ?? []) entry.level = value;
  logger.level = level;
}
