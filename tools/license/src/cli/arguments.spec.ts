import { parseArguments, UsageError } from './arguments';

const now = new Date('2026-03-01T10:00:00.000Z');
const parse = (...argv: string[]) => parseArguments(argv, now);
const ISSUE = ['issue', '--key', 'vendor-private.pem', '--customer', 'Contoso', '--out', 'license.key'];

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseArguments', () => {
  it('reads issue with every option, both as "--flag value" and "--flag=value"', () => {
    expect(parse(...ISSUE, '--expires=2026-12-31', '--connectors', '10', '--objects=50000', '--evaluation', '--force')).toEqual({
      name: 'issue',
      key: 'vendor-private.pem',
      customer: 'Contoso',
      issuedAt: now,
      expiresAt: new Date('2026-12-31T23:59:59.000Z'),
      connectors: 10,
      objects: 50_000,
      evaluation: true,
      out: 'license.key',
      force: true,
    });
  });

  it('defaults to no limits, not evaluation, not forced', () => {
    expect(parse(...ISSUE, '--expires', '+30')).toMatchObject({ connectors: null, objects: null, evaluation: false, force: false });
  });

  it('counts +days from the issue time, and reads a bare --issued date as the start of that day (UTC)', () => {
    expect(parse(...ISSUE, '--expires', '+30')).toMatchObject({ expiresAt: new Date('2026-03-31T10:00:00.000Z') });
    expect(parse(...ISSUE, '--issued', '2020-01-01', '--expires', '+1d')).toMatchObject({
      issuedAt: new Date('2020-01-01T00:00:00.000Z'),
      expiresAt: new Date('2020-01-02T00:00:00.000Z'),
    });
  });

  it('takes an ISO time with a zone, and refuses one without', () => {
    expect(parse(...ISSUE, '--expires', '2026-12-31T18:00:00+01:00')).toMatchObject({ expiresAt: new Date('2026-12-31T17:00:00.000Z') });
    expect(usageError(() => parse(...ISSUE, '--expires', '2026-12-31T18:00:00'))).toBe(
      '--expires 2026-12-31T18:00:00 needs a time zone (Z or +01:00): a license is read on hosts in other zones',
    );
  });

  it.each([
    [['--expires', 'next year'], '--expires next year is not a date: use 2026-12-31, 2026-12-31T18:00:00Z or +365 (days)'],
    [['--expires', '2026-02-30'], '--expires 2026-02-30 is not a calendar date'],
    [['--expires', '+0'], '--expires +0: the number of days must be between 1 and 36500'],
    [['--expires', '2026-01-01'], '--expires 2026-01-01 (2026-01-01T23:59:59.000Z) is not after the issue time 2026-03-01T10:00:00.000Z'],
    [['--expires', '+30', '--connectors', '0'], '--connectors 0 must be a whole number above 0 (leave it out for no limit)'],
    [['--expires', '+30', '--objects', 'many'], '--objects many must be a whole number above 0 (leave it out for no limit)'],
    [['--expires', '+30', '--connectors', '1', '--connectors', '2'], '--connectors is given twice'],
    [['--expires', '+30', '--customer', ' '], '--customer is given twice'],
    [['--expires'], '--expires needs a value'],
    [['--expires', '--evaluation'], '--expires needs a value'],
    [[], 'issue needs --expires <date|+days>'],
    [['--expires', '+30', '--verbose'], 'unknown option --verbose'],
    [['--expires', '+30', 'extra'], 'issue takes no arguments; got 1 arguments'],
  ])('refuses issue %j: %s', (extra, message) => {
    expect(usageError(() => parse(...ISSUE, ...extra))).toBe(message);
  });

  it('refuses a blank customer', () => {
    expect(usageError(() => parse('issue', '--key', 'k.pem', '--customer', '  ', '--expires', '+1', '--out', 'l.key'))).toBe('--customer must not be blank');
  });

  it('reads keygen, verify with several keys, and show', () => {
    expect(parse('keygen', '--out', 'vendor')).toEqual({ name: 'keygen', out: 'vendor' });
    expect(parse('verify', 'license.key', '--public-key', 'a.pem', '--public-key=b.pem')).toEqual({ name: 'verify', file: 'license.key', publicKeys: ['a.pem', 'b.pem'] });
    expect(parse('show', 'license.key', '--json')).toEqual({ name: 'show', file: 'license.key', json: true });
    expect(parse('--help')).toEqual({ name: 'help' });
  });

  it.each([
    [[], 'a command is required'],
    [['sign'], 'unknown command "sign"'],
    [['keygen'], 'keygen needs --out <dir>'],
    [['verify', 'license.key'], "verify needs --public-key <pem|base64>: the vendor's public key the license must be signed with"],
    [['verify', '--public-key', 'a.pem'], 'verify takes <file>'],
    [['show'], 'show takes <file>'],
    [['show', 'a.key', 'b.key'], 'show takes <file>; got 2 arguments'],
    [['show', 'a.key', '--json=yes'], 'unknown option --json'],
  ])('refuses %j: %s', (argv, message) => {
    expect(usageError(() => parse(...argv))).toBe(message);
  });
});
