import { ConnectorError } from '../connector';
import { parseCsvConnectorConfig } from './csv-config';
import { cellToValues, CsvColumn, sameCell, valuesToCell } from './csv-values';

const minimal = { path: '/data/hr.csv', anchorColumn: 'EmployeeID', columns: [{ column: 'EmployeeID' }] };

function refusal(config: unknown): string {
  try {
    parseCsvConnectorConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('CONNECTOR_CONFIG_INVALID');
    return (error as ConnectorError).message;
  }
  throw new Error('the config was accepted');
}

describe('parseCsvConnectorConfig', () => {
  it('fills in the documented defaults', () => {
    expect(parseCsvConnectorConfig(minimal)).toEqual({
      ...minimal,
      columns: [{ column: 'EmployeeID', type: 'string', required: false }],
      objectType: 'person',
      delimiter: ',',
      quote: '"',
      encoding: 'utf-8',
      header: true,
      trim: true,
      maxLinesPerRecord: 100,
      maxRecordLength: 1024 * 1024,
      export: { enabled: false, lineEnding: '\r\n', quoteAll: false },
    });
  });

  it('accepts a tab delimiter and every encoding', () => {
    for (const encoding of ['utf-8', 'utf-8-bom', 'windows-1252', 'latin1', 'utf-16le']) {
      expect(parseCsvConnectorConfig({ ...minimal, delimiter: '\t', encoding }).encoding).toBe(encoding);
    }
  });

  it.each([
    ['path', { ...minimal, path: '' }],
    ['delimiter', { ...minimal, delimiter: ';;' }],
    ['delimiter', { ...minimal, delimiter: '\n' }],
    ['quote: must differ from the delimiter', { ...minimal, quote: ',' }],
    ['encoding', { ...minimal, encoding: 'ucs-2' }],
    ["anchorColumn: 'Id' must be one of the mapped columns", { ...minimal, anchorColumn: 'Id' }],
    ['anchorColumn: an anchor holds one value', { ...minimal, columns: [{ column: 'EmployeeID', separator: '|' }] }],
    ["columns.1.attribute: maps attribute 'EmployeeID' a second time", { ...minimal, columns: [{ column: 'EmployeeID' }, { column: 'Mail', attribute: 'EmployeeID' }] }],
    ['columns.1.separator', { ...minimal, columns: [{ column: 'EmployeeID' }, { column: 'Groups', separator: ',' }] }],
    ['columns.0.type', { ...minimal, columns: [{ column: 'EmployeeID', type: 'binary' }] }],
    ['columnNames: is required', { ...minimal, header: false }],
    ["columns.0.column: 'EmployeeID' is not one of columnNames", { ...minimal, header: false, columnNames: ['Id'] }],
    ['export.lineEnding', { ...minimal, export: { enabled: true, lineEnding: '\r' } }],
    ['delimitter', { ...minimal, delimitter: ';' }],
  ])('refuses a config, naming %s', (named, config) => {
    expect(refusal(config)).toContain(named);
  });
});

describe('cell values', () => {
  const column = (fields: Partial<CsvColumn>): CsvColumn => ({ column: 'C', attribute: 'c', type: 'string', required: false, ...fields });

  it('splits multi-valued cells, trimming and dropping empty parts', () => {
    expect(cellToValues(' Staff | IT||  ', column({ separator: '|' }))).toEqual(['Staff', 'IT']);
    expect(cellToValues('', column({ separator: '|' }))).toEqual([]);
    expect(cellToValues('a|b', column({}))).toEqual(['a|b']);
  });

  it('reads integers, booleans and ISO dates, and says what is wrong otherwise', () => {
    expect(cellToValues('42', column({ type: 'integer' }))).toEqual([42]);
    expect(cellToValues('4.2', column({ type: 'integer' }))).toEqual({ problem: "column 'C': '4.2' is not an integer" });
    expect(cellToValues('Yes;0', column({ type: 'boolean', separator: ';' }))).toEqual([true, false]);
    expect(cellToValues('maybe', column({ type: 'boolean' }))).toHaveProperty('problem');
    expect(cellToValues('2024-02-29', column({ type: 'datetime' }))).toEqual(['2024-02-29T00:00:00.000Z']);
    expect(cellToValues('2024-03-01 08:30', column({ type: 'datetime' }))).toEqual(['2024-03-01T08:30:00.000Z']);
    expect(cellToValues('2024-03-01T08:30:00+02:00', column({ type: 'datetime' }))).toEqual(['2024-03-01T06:30:00.000Z']);
    expect(cellToValues('2023-02-29', column({ type: 'datetime' }))).toHaveProperty('problem');
    expect(cellToValues('03/01/2024', column({ type: 'datetime' }))).toHaveProperty('problem');
  });

  it('writes values back as cells, refusing what the column cannot hold', () => {
    expect(valuesToCell(['Staff', 'IT'], column({ separator: '|' }))).toBe('Staff|IT');
    expect(valuesToCell(['a|b'], column({ separator: '|' }))).toHaveProperty('problem');
    expect(valuesToCell(['a', 'b'], column({}))).toEqual({ problem: "attribute 'c' holds one value, got 2" });
    expect(valuesToCell([7], column({ type: 'integer' }))).toBe('7');
    expect(valuesToCell(['seven'], column({ type: 'integer' }))).toHaveProperty('problem');
    expect(valuesToCell([true], column({ type: 'boolean' }))).toBe('true');
    expect(valuesToCell([], column({}))).toBe('');
  });

  it('compares multi-valued cells as sets', () => {
    expect(sameCell('IT|Staff', 'Staff|IT', column({ separator: '|' }))).toBe(true);
    expect(sameCell('IT|Staff', 'Staff', column({ separator: '|' }))).toBe(false);
    expect(sameCell('IT|Staff', 'Staff|IT', column({}))).toBe(false);
  });
});
