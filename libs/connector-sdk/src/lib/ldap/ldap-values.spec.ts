import {
  decodeValue,
  encodeValue,
  formatGeneralizedTime,
  guidToBytes,
  guidToString,
  isGuid,
  parseGeneralizedTime,
  ValueConversionError,
} from './ldap-values';

describe('Active Directory objectGUID', () => {
  // The first three groups are stored little-endian: this is how AD tools print these bytes.
  const bytes = Buffer.from('e004253f894fd3119a0c0305e82c3301', 'hex');
  const text = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

  it('turns the 16 stored bytes into the canonical GUID string', () => {
    expect(guidToString(bytes)).toBe(text);
  });

  it('turns a GUID string (braces and upper case allowed) back into the stored bytes', () => {
    expect(guidToBytes(text)).toEqual(bytes);
    expect(guidToBytes(`{${text.toUpperCase()}}`)).toEqual(bytes);
  });

  it('round-trips random GUIDs', () => {
    for (let i = 0; i < 50; i++) {
      const random = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
      expect(guidToBytes(guidToString(random))).toEqual(random);
    }
  });

  it('refuses what is not a GUID', () => {
    expect(() => guidToString(Buffer.alloc(15))).toThrow(RangeError);
    expect(() => guidToBytes('not-a-guid')).toThrow(RangeError);
    expect(isGuid(text)).toBe(true);
    expect(isGuid('*')).toBe(false);
  });
});

describe('GeneralizedTime', () => {
  it.each([
    ['20240501123456Z', '2024-05-01T12:34:56.000Z'],
    ['20240501123456.5Z', '2024-05-01T12:34:56.500Z'],
    ['20240501123456.0Z', '2024-05-01T12:34:56.000Z'],
    ['20240501123456,25Z', '2024-05-01T12:34:56.250Z'],
    ['202405011234Z', '2024-05-01T12:34:00.000Z'],
    ['2024050112Z', '2024-05-01T12:00:00.000Z'],
    ['20240501123456+0200', '2024-05-01T10:34:56.000Z'],
    ['20240501123456-0130', '2024-05-01T14:04:56.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseGeneralizedTime(text)?.toISOString()).toBe(iso);
  });

  it.each(['20240230120000Z', '20241301120000Z', '2024050112345Z', 'yesterday', '20240501246000Z'])('%s is not a time', (text) => {
    expect(parseGeneralizedTime(text)).toBeUndefined();
  });

  it('formats UTC, with milliseconds only when there are any', () => {
    expect(formatGeneralizedTime(new Date('2024-05-01T12:34:56.000Z'))).toBe('20240501123456Z');
    expect(formatGeneralizedTime(new Date('2024-05-01T12:34:56.789Z'))).toBe('20240501123456.789Z');
    expect(formatGeneralizedTime(new Date('2024-05-01T12:34:56.789Z'), { fraction: 'never' })).toBe('20240501123456Z');
  });
});

describe('decodeValue', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  it('converts by attribute type', () => {
    expect(decodeValue(bytes('Zoë'), 'string')).toBe('Zoë');
    expect(decodeValue(bytes('-42'), 'integer')).toBe(-42);
    expect(decodeValue(bytes('TRUE'), 'boolean')).toBe(true);
    expect(decodeValue(bytes('FALSE'), 'boolean')).toBe(false);
    expect(decodeValue(bytes('20240501123456Z'), 'datetime')).toBe('2024-05-01T12:34:56.000Z');
    expect(decodeValue(bytes('cn=Smith\\, John,dc=x'), 'reference')).toBe('cn=Smith\\, John,dc=x');
    expect(decodeValue(Buffer.from([0, 1, 254, 255]), 'binary')).toBe('AAH+/w==');
  });

  it('refuses text that is not UTF-8 instead of replacing characters', () => {
    expect(() => decodeValue(Buffer.from([0x41, 0xff, 0xfe]), 'string')).toThrow(ValueConversionError);
    expect(() => decodeValue(Buffer.from([0xc3]), 'string')).toThrow('not valid UTF-8');
  });

  it('keeps a leading byte order mark (bytes are data)', () => {
    expect(decodeValue(Buffer.from([0xef, 0xbb, 0xbf, 0x41]), 'string')).toBe('\ufeffA');
  });

  it.each([
    ['12a', 'integer', 'not an integer'],
    ['123456789012345678901', 'integer', 'too large'],
    ['yes', 'boolean', 'TRUE or FALSE'],
    ['tomorrow', 'datetime', 'GeneralizedTime'],
    ['x)(uid=*', 'reference', 'not a distinguished name'],
    ['cn=a,cn=b\\', 'reference', 'not a distinguished name'],
  ] as const)('refuses %j as %s', (text, type, message) => {
    expect(() => decodeValue(bytes(text), type)).toThrow(message);
  });
});

describe('encodeValue', () => {
  it('converts connector-space values into what LDAP writes', () => {
    expect(encodeValue(true, 'boolean')).toBe('TRUE');
    expect(encodeValue(7, 'integer')).toBe('7');
    expect(encodeValue('2024-05-01T12:34:56.000Z', 'datetime')).toBe('20240501123456Z');
    expect(encodeValue('AAH+/w==', 'binary')).toEqual(Buffer.from([0, 1, 254, 255]));
    expect(encodeValue('cn=a,dc=x', 'reference')).toBe('cn=a,dc=x');
    expect(encodeValue(12, 'string')).toBe('12');
  });

  it.each([
    ['x)(uid=*', 'reference'],
    ['not base64!', 'binary'],
    ['maybe', 'boolean'],
    [1.5, 'integer'],
    ['not a date', 'datetime'],
    ['nul\u0000', 'string'],
  ] as const)('refuses %j as %s', (value, type) => {
    expect(() => encodeValue(value, type)).toThrow(ValueConversionError);
  });
});
