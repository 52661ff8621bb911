import type { AttributeType } from '../connector';
import { anchorParam, columnToValues, isSoftDeleted, parseDateTime, readAnchor, sameValues, SqlValueColumn, SqlValueError, valuesToParam } from './sql-values';

const column = (type: AttributeType, multiValued = false): SqlValueColumn => ({ column: 'c', attribute: 'a', type, multiValued, separator: ';' });

describe('reading column values', () => {
  it('reads each type from what the drivers return', () => {
    expect(columnToValues('Ann', column('string'))).toEqual(['Ann']);
    expect(columnToValues(42, column('string'))).toEqual(['42']);
    expect(columnToValues(null, column('string'))).toEqual([]);
    expect(columnToValues(7, column('integer'))).toEqual([7]);
    expect(columnToValues(7n, column('integer'))).toEqual([7]);
    expect(columnToValues('12', column('integer'))).toEqual([12]);
    expect(columnToValues('12.00', column('integer'))).toEqual([12]);
    expect([true, 1, 0n, 't', 'false', Buffer.from([1])].map((raw) => columnToValues(raw, column('boolean')))).toEqual([[true], [true], [false], [true], [false], [true]]);
    expect(columnToValues(Buffer.from([0, 255]), column('binary'))).toEqual(['AP8=']);
    expect(columnToValues(4711, column('reference'))).toEqual(['4711']);
  });

  it('reads date-times in any zone as ISO-8601 UTC, text without a zone as UTC', () => {
    expect(columnToValues('2024-05-01 12:00:00.123456+02', column('datetime'))).toEqual(['2024-05-01T10:00:00.123Z']);
    expect(columnToValues('2024-05-01 12:00:00.5+05:30', column('datetime'))).toEqual(['2024-05-01T06:30:00.500Z']);
    expect(columnToValues('2024-05-01 12:00:00', column('datetime'))).toEqual(['2024-05-01T12:00:00.000Z']);
    expect(columnToValues('2024-05-01T12:00:00.000Z', column('datetime'))).toEqual(['2024-05-01T12:00:00.000Z']);
    expect(columnToValues('2024-05-01', column('datetime'))).toEqual(['2024-05-01T00:00:00.000Z']);
    expect(columnToValues(new Date('2024-05-01T12:00:00Z'), column('datetime'))).toEqual(['2024-05-01T12:00:00.000Z']);
    expect(parseDateTime('2024-02-30')).toBeUndefined();
    expect(parseDateTime('infinity')).toBeUndefined();
  });

  it('splits delimited columns, dropping blanks', () => {
    expect(columnToValues('staff; vpn users;;', column('string', true))).toEqual(['staff', 'vpn users']);
    expect(columnToValues('1;2', column('integer', true))).toEqual([1, 2]);
    expect(columnToValues('', column('string', true))).toEqual([]);
  });

  it.each([
    ['twelve', 'integer', 'column c: string "twelve" is not an integer'],
    ['9007199254740993', 'integer', 'is not an integer'],
    [2, 'boolean', 'column c: number 2 is not a boolean'],
    ['2024-13-01', 'datetime', 'is not a datetime'],
    [1714560000, 'datetime', 'is not a datetime'],
    ['text', 'binary', 'is not a binary'],
    [Buffer.from('x'), 'string', 'column c: 1 bytes is not a string'],
  ] as const)('says why %j is not a %s', (raw, type, message) => {
    expect(() => columnToValues(raw, column(type))).toThrow(SqlValueError);
    expect(() => columnToValues(raw, column(type))).toThrow(message);
  });
});

describe('writing column values', () => {
  it('binds each type as the drivers expect', () => {
    expect(valuesToParam([], column('string'))).toBeNull();
    expect(valuesToParam(['Ann'], column('string'))).toBe('Ann');
    expect(valuesToParam([7], column('integer'))).toBe(7);
    expect(valuesToParam(['9007199254740993'], column('integer'))).toBe('9007199254740993');
    expect(valuesToParam(['yes'], column('boolean'))).toBe(true);
    expect(valuesToParam(['2024-05-01T12:00:00+02:00'], column('datetime'))).toEqual(new Date('2024-05-01T10:00:00Z'));
    expect(valuesToParam(['AP8='], column('binary'))).toEqual(Buffer.from([0, 255]));
    expect(valuesToParam(['b', 'a'], column('string', true))).toBe('b;a');
    expect(valuesToParam([], column('string', true))).toBeNull();
  });

  it.each([
    [['a', 'b'], column('string'), 'attribute a holds one value, got 2'],
    [['x'], column('integer'), 'is not an integer'],
    [[1.5], column('integer'), 'is not an integer'],
    [['maybe'], column('boolean'), 'is not a boolean'],
    [['yesterday'], column('datetime'), 'is not a datetime'],
    [['not base64!'], column('binary'), 'is not a binary'],
    [['a;b'], column('string', true), "contains the separator ';'"],
    [[' a'], column('string', true), 'starts or ends with whitespace'],
  ])('refuses %j for %o', (values, target, message) => {
    expect(() => valuesToParam(values, target)).toThrow(message);
  });

  it('compares values as an import would read them back, lists in any order', () => {
    expect(sameValues(['2024-05-01T12:00:00+02:00'], ['2024-05-01T10:00:00.000Z'], column('datetime'))).toBe(true);
    expect(sameValues(['7'], [7], column('integer'))).toBe(true);
    expect(sameValues(['b', 'a'], ['a', 'b'], column('string', true))).toBe(true);
    expect(sameValues(['b', 'a'], ['a', 'b'], column('string'))).toBe(false);
    expect(sameValues([], [''], column('string'))).toBe(false);
  });
});

describe('anchors and soft deletes', () => {
  it('reads anchors as text, integers in canonical form', () => {
    expect(readAnchor('E1', 'string', 'id')).toBe('E1');
    expect(readAnchor(17, 'string', 'id')).toBe('17');
    expect(readAnchor('007', 'integer', 'id')).toBe('7');
    expect(readAnchor(9007199254740993n, 'integer', 'id')).toBe('9007199254740993');
    expect(readAnchor(null, 'string', 'id')).toBeUndefined();
    expect(() => readAnchor('E1', 'integer', 'id')).toThrow('anchor column id: string "E1" is not an integer');
    expect(() => readAnchor(Buffer.from('x'), 'string', 'id')).toThrow(SqlValueError);
    expect(anchorParam('42', 'integer')).toBe(42);
    expect(anchorParam('9007199254740993', 'integer')).toBe('9007199254740993');
    expect(() => anchorParam('x', 'integer')).toThrow(SqlValueError);
  });

  it('tells soft-deleted rows by a timestamp set or a flag true', () => {
    expect(isSoftDeleted(null, 'timestamp', 'd')).toBe(false);
    expect(isSoftDeleted('2024-05-01', 'timestamp', 'd')).toBe(true);
    expect([0, 1, false, true, null, 'Y'].map((raw) => isSoftDeleted(raw, 'boolean', 'd'))).toEqual([false, true, false, true, false, true]);
    expect(() => isSoftDeleted('gone', 'boolean', 'd')).toThrow('soft-delete column d');
  });
});
