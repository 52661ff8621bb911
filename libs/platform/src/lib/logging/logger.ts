import pino, { Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';
import { DailyFileStream } from './daily-file-stream';
import type { LogSettings } from '../config/shared-settings';

/** Keys whose values never reach a log line, at any depth (compared case-insensitively). */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'authorization',
  'cookie',
  'apiKey',
  'ciphertext',
  'privateKey',
  'credential',
];

const REDACTED = new Set(REDACTED_KEYS.map((k) => k.toLowerCase()));
const CENSOR = '[redacted]';
const MAX_DEPTH = 10;

/**
 * A copy of a log record with every value under a redacted key replaced,
 * however deep it sits (pino's own redaction needs every path spelled out).
 * Errors keep their message and stack; cycles and very deep values are cut.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    out['type'] = value.name;
    out['message'] = value.message;
    out['stack'] = value.stack;
  }
  for (const [key, inner] of Object.entries(value)) {
    out[key] = REDACTED.has(key.toLowerCase()) ? CENSOR : redactDeep(inner, depth + 1, seen);
  }
  return out;
}

export interface ProductLogger {
  logger: Logger;
  file: DailyFileStream;
  /** Flushes and closes the file; call last. */
  close(): void;
}

/**
 * Structured JSON logs to stdout and to the daily file under the data
 * directory. Every line carries the app name and pid so the shared file can
 * be read per process.
 */
export function createProductLogger(app: string, settings: LogSettings): ProductLogger {
  const file = new DailyFileStream(settings.dir, settings.retentionDays);
  const stdout = pino.destination({ fd: 1, sync: true });
  const logger = pino(
    {
      level: settings.level,
      base: { app, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactDeep(record) as Record<string, unknown>,
      },
    },
    pino.multistream([
      { level: settings.level, stream: stdout },
      { level: settings.level, stream: file },
    ]),
  );
  return {
    logger,
    file,
    close: () => {
      stdout.flushSync();
      file.close();
    },
  };
}

/** Nest's logger interface over pino, so framework messages land in the same JSON stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context last, and for errors a stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? (rest[0] as string) : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
