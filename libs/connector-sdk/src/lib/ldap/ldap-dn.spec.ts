import { dnKey, dnWithin, DnSyntaxError, escapeDnValue, escapeFilterValue, formatDn, isDn, parentDn, parseDn } from './ldap-dn';

describe('escapeDnValue (RFC 4514)', () => {
  it.each([
    ['plain', 'plain'],
    ['Smith, John', 'Smith\\, John'],
    ['a+b', 'a\\+b'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['<tag>;x', '\\<tag\\>\\;x'],
    ['#first', '\\#first'],
    ['mid#dle', 'mid#dle'],
    [' lead and trail ', '\\ lead and trail\\ '],
    ['nul\u0000byte', 'nul\\00byte'],
    ['Zoë Ångström', 'Zoë Ångström'],
    ['a=b', 'a\\=b'],
  ])('%j → %j', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });

  it('writes hex pairs on request, so no escaped comma can be mistaken for a separator', () => {
    expect(escapeDnValue('a\\,b', { hex: true })).toBe('a\\5C\\2Cb');
    expect(escapeDnValue('x,y', { hex: true })).not.toContain(',');
  });

  it('keeps an injected DN inside one value', () => {
    const dn = `uid=${escapeDnValue('x,ou=admins,dc=corp')},ou=people,dc=corp`;
    const rdns = parseDn(dn);
    expect(rdns).toHaveLength(3);
    expect(rdns[0]).toEqual([{ type: 'uid', value: 'x,ou=admins,dc=corp' }]);
  });

  it('round-trips every tricky value through parseDn', () => {
    for (const value of ['Smith, John', ' x ', '#1', 'a+b=c', 'back\\', 'q"<>;', 'Zoë', 'tab\tand\nnewline', '\u0000']) {
      expect(parseDn(`cn=${escapeDnValue(value)},dc=x`)[0][0].value).toBe(value);
      expect(parseDn(`cn=${escapeDnValue(value, { hex: true })},dc=x`)[0][0].value).toBe(value);
    }
  });
});

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes the filter metacharacters so a value cannot widen a search', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('C:\\dir')).toBe('C:\\5cdir');
    expect(escapeFilterValue('nul\u0000')).toBe('nul\\00');
  });

  it('leaves other text, non-ASCII included, as it is', () => {
    expect(escapeFilterValue('Zoë Ångström <x@y>')).toBe('Zoë Ångström <x@y>');
  });

  it('escapes a binary value byte by byte (objectGUID searches)', () => {
    expect(escapeFilterValue(Buffer.from([0x00, 0x2a, 0xff, 0x10]))).toBe('\\00\\2a\\ff\\10');
  });
});

describe('parseDn', () => {
  it('parses RDNs leftmost first, multi-valued RDNs as several pairs', () => {
    expect(parseDn('cn=Ann+uid=ann,ou=people,dc=corp')).toEqual([
      [
        { type: 'cn', value: 'Ann' },
        { type: 'uid', value: 'ann' },
      ],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'corp' }],
    ]);
  });

  it('resolves backslash and hex escapes, UTF-8 included', () => {
    expect(parseDn('cn=Smith\\, John,dc=x')[0][0].value).toBe('Smith, John');
    expect(parseDn('cn=Zo\\C3\\AB,dc=x')[0][0].value).toBe('Zoë');
    expect(parseDn('cn=\\23hash\\20,dc=x')[0][0].value).toBe('#hash ');
  });

  it('keeps #hex (BER) values as written', () => {
    expect(parseDn('1.3.6.1.4.1.1466.0=#04024869,dc=x')[0][0]).toEqual({ type: '1.3.6.1.4.1.1466.0', value: '#04024869', hexEncoded: true });
  });

  it('accepts the spaces older servers put around separators', () => {
    expect(dnKey('CN=Ann , OU=People , DC=Corp')).toBe(dnKey('cn=ann,ou=people,dc=corp'));
  });

  it('returns no RDNs for the empty DN (the root DSE)', () => {
    expect(parseDn('')).toEqual([]);
  });

  it.each([
    ['cn=a"b,dc=x', 'unescaped'],
    ['cn=a<b,dc=x', 'unescaped "<"'],
    ['cn=a;b', 'unescaped ";"'],
    ['cn=dangling\\', 'dangling backslash'],
    ['cn=bad\\zz,dc=x', 'bad escape'],
    ['cn=a,', 'separator'],
    ['justtext', 'without "="'],
    ['c n=a', 'bad attribute type'],
    ['cn=\\ff\\fe,dc=x', 'not UTF-8'],
    ['cn=#12x,dc=x', '#hex'],
    ['x)(uid=*', 'bad attribute type'],
  ])('refuses %j', (dn, why) => {
    expect(() => parseDn(dn)).toThrow(DnSyntaxError);
    expect(() => parseDn(dn)).toThrow(why);
    expect(isDn(dn)).toBe(false);
  });
});

describe('formatDn, dnKey, dnWithin, parentDn', () => {
  it('formats RFC 4514 strings without spaces', () => {
    expect(formatDn(parseDn('CN=Smith\\, John + UID=js , DC=corp'))).toBe('CN=Smith\\, John+UID=js,DC=corp');
  });

  it('compares DNs regardless of case, escape style and RDN order', () => {
    expect(dnKey('uid=JS+cn=Smith\\2C John,dc=Corp')).toBe(dnKey('CN=smith\\, john+UID=js,DC=corp'));
    expect(dnKey('cn=a,dc=x')).not.toBe(dnKey('cn=b,dc=x'));
  });

  it('knows which entries a search scope covers', () => {
    const base = 'ou=people,dc=corp';
    expect(dnWithin('ou=people,dc=corp', base, 'base')).toBe(true);
    expect(dnWithin('uid=a,ou=people,dc=corp', base, 'one')).toBe(true);
    expect(dnWithin('uid=a,ou=x,ou=people,dc=corp', base, 'one')).toBe(false);
    expect(dnWithin('uid=a,ou=x,OU=People,DC=corp', base, 'sub')).toBe(true);
    expect(dnWithin('uid=a,ou=peoplex,dc=corp', base, 'sub')).toBe(false);
    expect(dnWithin('dc=corp', base, 'sub')).toBe(false);
  });

  it('names the parent', () => {
    expect(parentDn('cn=Smith\\, John,ou=people,dc=corp')).toBe('ou=people,dc=corp');
  });
});
