import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DailyFileStream, logFileName } from './daily-file-stream';

describe('logFileName', () => {
  it('names the file after the UTC day, whatever the local offset', () => {
    // 23:30 on the 31st in New York is already the 1st in UTC.
    expect(logFileName(new Date('2026-01-31T23:30:00-05:00'))).toBe('identitymesh-20260201.log');
    expect(logFileName(new Date('2026-02-01T00:30:00+02:00'))).toBe('identitymesh-20260131.log');
  });
});

describe('DailyFileStream', () => {
  let dir: string;
  let now: Date;
  let stream: DailyFileStream | undefined;
  const clock = () => now;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-daily-log-'));
  });

  afterEach(() => {
    stream?.close();
    stream = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  it('creates the directory and appends lines to identitymesh-YYYYMMDD.log of the UTC day', () => {
    const logDir = join(dir, 'logs', 'nested');
    now = new Date('2026-03-04T10:00:00Z');
    stream = new DailyFileStream(logDir, 14, clock);

    expect(stream.currentFile()).toBe(join(logDir, 'identitymesh-20260304.log'));
    expect(stream.write('first\n')).toBe(true);
    stream.write('second\n');

    expect(readdirSync(logDir)).toEqual(['identitymesh-20260304.log']);
    expect(readFileSync(join(logDir, 'identitymesh-20260304.log'), 'utf8')).toBe('first\nsecond\n');
  });

  it('appends to a file that another process already started that day', () => {
    writeFileSync(join(dir, 'identitymesh-20260304.log'), 'from the engine\n');
    now = new Date('2026-03-04T10:00:00Z');
    stream = new DailyFileStream(dir, 14, clock);
    stream.write('from the admin api\n');
    expect(read('identitymesh-20260304.log')).toBe('from the engine\nfrom the admin api\n');
  });

  it('switches to the next file when the clock crosses UTC midnight', () => {
    now = new Date('2026-03-04T23:59:59.900Z');
    stream = new DailyFileStream(dir, 14, clock);
    stream.write('before midnight\n');
    now = new Date('2026-03-05T00:00:00.100Z');
    stream.write('after midnight\n');
    stream.write('still the 5th\n');

    expect(readdirSync(dir).sort()).toEqual(['identitymesh-20260304.log', 'identitymesh-20260305.log']);
    expect(read('identitymesh-20260304.log')).toBe('before midnight\n');
    expect(read('identitymesh-20260305.log')).toBe('after midnight\nstill the 5th\n');
  });

  it('removes log files older than the retention and keeps newer ones and unrelated files', () => {
    const existing = [
      'identitymesh-20260220.log', // 12 days before: past a 7-day retention
      'identitymesh-20260224.log', // 8 days before: past
      'identitymesh-20260225.log', // 7 days before: the oldest day kept
      'identitymesh-20260301.log',
      'identitymesh-20260220.log.gz', // not the product's pattern
      'other-20260101.log',
      'notes.txt',
    ];
    for (const name of existing) writeFileSync(join(dir, name), 'old\n');

    now = new Date('2026-03-04T08:00:00Z');
    stream = new DailyFileStream(dir, 7, clock);
    stream.write('today\n');

    expect(readdirSync(dir).sort()).toEqual(
      [
        'identitymesh-20260225.log',
        'identitymesh-20260301.log',
        'identitymesh-20260304.log',
        'identitymesh-20260220.log.gz',
        'other-20260101.log',
        'notes.txt',
      ].sort(),
    );
  });

  it('prunes again when the day changes', () => {
    now = new Date('2026-03-04T12:00:00Z');
    stream = new DailyFileStream(dir, 1, clock);
    stream.write('day one\n');
    now = new Date('2026-03-05T12:00:00Z');
    stream.write('day two\n');
    expect(existsSync(join(dir, 'identitymesh-20260304.log'))).toBe(true);

    now = new Date('2026-03-06T12:00:00Z');
    stream.write('day three\n');
    expect(readdirSync(dir).sort()).toEqual(['identitymesh-20260305.log', 'identitymesh-20260306.log']);
  });

  it('reopens the file after close', () => {
    now = new Date('2026-03-04T10:00:00Z');
    stream = new DailyFileStream(dir, 14, clock);
    stream.write('one\n');
    stream.close();
    stream.write('two\n');
    expect(read('identitymesh-20260304.log')).toBe('one\ntwo\n');
  });
});
