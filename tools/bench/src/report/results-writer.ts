import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRecord } from './bench-record';

/** `results.jsonl` of one benchmark: a line per record, appended as each run ends, so a run cut short keeps what it measured. */
export class ResultsWriter {
  readonly records: BenchRecord[] = [];
  readonly file: string;

  constructor(readonly dir: string, header: Record<string, unknown>) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'results.jsonl');
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(header, null, 2)}\n`);
    writeFileSync(this.file, '');
  }

  add(record: Omit<BenchRecord, 'at'>): BenchRecord {
    const full: BenchRecord = { ...record, at: new Date().toISOString() };
    this.records.push(full);
    appendFileSync(this.file, `${JSON.stringify(full)}\n`);
    return full;
  }

  write(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }
}
