import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProductLogger, ProductLogger, redactDeep } from './logger';

describe('createProductLogger', () => {
  let dir: string;
  let product: ProductLogger | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-logger-'));
  });

  afterEach(() => {
    product?.close();
    product = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything written to the daily files (a run across UTC midnight spans two). */
  function fileText(): string {
    return readdirSync(dir)
      .sort()
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .join('');
  }

  function fileLines(): Array<Record<string, unknown>> {
    return fileText()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes JSON lines with the app name, pid, level and time to the daily file', () => {
    product = createProductLogger('admin-api', { level: 'info', dir, retentionDays: 14 });
    product.logger.info({ connectorId: 'c-1' }, 'run started');
    product.logger.debug('below the level');

    expect(product.file.currentFile()).toMatch(/identitymesh-\d{8}\.log$/);
    const lines = fileLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ app: 'admin-api', pid: process.pid, level: 'info', connectorId: 'c-1', msg: 'run started' });
    expect(new Date(lines[0]['time'] as string).toISOString()).toBe(lines[0]['time']);
  });

  it('redacts secrets under sensitive keys, top-level and nested, in the file', () => {
    product = createProductLogger('sync-engine', { level: 'info', dir, retentionDays: 14 });
    product.logger.info(
      {
        password: 'pw-top',
        token: 'tok-top',
        connector: { name: 'HR feed', secret: 'sec-nested', apiKey: 'key-nested' },
        request: { headers: { authorization: 'Bearer auth-deep', cookie: 'sid=cookie-deep', accept: 'application/json' } },
      },
      'connector saved',
    );

    const text = fileText();
    for (const secret of ['pw-top', 'tok-top', 'sec-nested', 'key-nested', 'auth-deep', 'cookie-deep']) {
      expect(text).not.toContain(secret);
    }
    const [line] = fileLines();
    expect(line).toMatchObject({
      password: '[redacted]',
      token: '[redacted]',
      connector: { name: 'HR feed', secret: '[redacted]', apiKey: '[redacted]' },
      request: { headers: { authorization: '[redacted]', cookie: '[redacted]', accept: 'application/json' } },
      msg: 'connector saved',
    });
  });

  it('redacts in child loggers too', () => {
    product = createProductLogger('sync-engine', { level: 'info', dir, retentionDays: 14 });
    product.logger.child({ runId: 'r-1' }).warn({ credential: 'cred-child' }, 'bind failed');

    expect(fileText()).not.toContain('cred-child');
    expect(fileLines()[0]).toMatchObject({ app: 'sync-engine', runId: 'r-1', level: 'warn', credential: '[redacted]' });
  });
});

describe('redactDeep', () => {
  it('redacts sensitive keys at any depth, inside arrays too, case-insensitively', () => {
    const record = { a: { b: { c: { password: 'deep-pw' } } }, list: [{ Token: 'in-array' }], keep: 'visible' };
    const text = JSON.stringify(redactDeep(record));
    expect(text).not.toContain('deep-pw');
    expect(text).not.toContain('in-array');
    expect(text).toContain('visible');
  });

  it('keeps an error readable and survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const out = redactDeep({ err: new Error('boom'), cyclic }) as { err: { message: string; stack: string }; cyclic: { self: unknown } };
    expect(out.err.message).toBe('boom');
    expect(out.err.stack).toContain('boom');
    expect(out.cyclic.self).toBe('[circular]');
  });
});
