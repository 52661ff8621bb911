import { escapeDnValue, normalizeDn, parseDn } from './distinguished-name';

describe('escapeDnValue (RFC 4514)', () => {
  it.each([
    ['Doe, John', 'Doe\\, John'],
    ['a+b', 'a\\+b'],
    ['"quoted"', '\\"quoted\\"'],
    ['x;y<z>', 'x\\;y\\<z\\>'],
    ['back\\slash', 'back\\\\slash'],
    ['#1', '\\#1'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    ['mid # and = stay', 'mid # and = stay'],
    ['nul\u0000', 'nul\\00'],
    ['José', 'José'],
  ])('%j → %j', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });

  it('round-trips through the parser', () => {
    for (const value of ['Doe, John', ' #x+y; ', 'a\\b', 'Zoë']) {
      expect(parseDn(`cn=${escapeDnValue(value)},dc=corp`)?.[0][0].value).toBe(value);
    }
  });
});

describe('normalizeDn', () => {
  it('makes differently spelled DNs of one entry equal', () => {
    expect(normalizeDn('CN=Doe\\, John, OU=Staff,DC=corp')).toBe(normalizeDn('cn=doe\\2c john,ou=staff, dc=CORP'));
    expect(normalizeDn('cn=J\\C3\\BCrgen,dc=x')).toBe('cn=jürgen,dc=x');
  });

  it('sorts multi-valued RDNs and keeps escaped spaces', () => {
    expect(normalizeDn('uid=j+cn=John,dc=x')).toBe('cn=john+uid=j,dc=x');
    expect(normalizeDn('cn=\\ x\\ ,dc=x')).toBe('cn=\\ x\\ ,dc=x');
  });

  it('falls back to trimmed lower case for text that is no DN', () => {
    expect(parseDn('not a dn')).toBeUndefined();
    expect(normalizeDn(' E1001 ')).toBe('e1001');
  });
});
