import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const FILE_PATTERN = /^identitymesh-(\d{8})\.log$/;

/** `YYYYMMDD` of a date in UTC; log files roll at UTC midnight on every host alike. */
export function logFileDay(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

export function logFileName(date: Date): string {
  return `identitymesh-${logFileDay(date)}.log`;
}

/**
 * Appends log lines to `identitymesh-YYYYMMDD.log`, switching files when the
 * day changes and removing files past the retention. Writes are synchronous
 * appends of whole lines: the Admin API and the engine share the file, and
 * O_APPEND keeps their lines from interleaving; a crash loses no line that
 * was logged.
 */
export class DailyFileStream {
  private fd: number | undefined;
  private day = '';

  constructor(
    private readonly dir: string,
    private readonly retentionDays: number,
    private readonly clock: () => Date = () => new Date(),
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The file the next line goes to. */
  currentFile(): string {
    return join(this.dir, logFileName(this.clock()));
  }

  write(line: string): boolean {
    const now = this.clock();
    const day = logFileDay(now);
    if (day !== this.day || this.fd === undefined) this.roll(now, day);
    writeSync(this.fd as number, line);
    return true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private roll(now: Date, day: string): void {
    this.close();
    this.day = day;
    this.fd = openSync(join(this.dir, logFileName(now)), 'a', 0o640);
    this.prune(now);
  }

  private prune(now: Date): void {
    const oldest = logFileDay(new Date(now.getTime() - this.retentionDays * 86_400_000));
    for (const name of readdirSync(this.dir)) {
      const match = FILE_PATTERN.exec(name);
      if (!match || match[1] >= oldest) continue;
      const path = join(this.dir, name);
      // Another process may have pruned it first.
      if (statSync(path, { throwIfNoEntry: false })) {
        try {
          unlinkSync(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
  }
}
