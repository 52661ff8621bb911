import { PassThrough } from 'node:stream';
import { groupsCsvConnectorConfig, peopleCsvConnectorConfig } from './connector-config';
import { writeGroupsCsv, writePeopleCsv } from './csv-writer';

async function headerOf(write: (out: PassThrough) => Promise<unknown>): Promise<string[]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  await write(out);
  return text.split('\r\n')[0].split(',');
}

describe('CSV connector configs', () => {
  it('describes the people file: anchor, reference manager, datetime hire date', async () => {
    const config = peopleCsvConnectorConfig({ path: '/srv/hr/people.csv' });
    expect(config).toMatchObject({ path: '/srv/hr/people.csv', objectType: 'person', delimiter: ',', quote: '"', encoding: 'utf-8', header: true, anchorColumn: 'Employee ID', export: { enabled: false } });
    expect(config.columns.map((column) => column.column)).toEqual(await headerOf((out) => writePeopleCsv([], out)));
    expect(config.columns.find((column) => column.column === 'Manager')).toEqual({ column: 'Manager', attribute: 'manager', type: 'reference' });
    expect(config.columns.find((column) => column.column === 'Hire Date')).toEqual({ column: 'Hire Date', attribute: 'hireDate', type: 'datetime' });
    expect(config.columns.some((column) => column.separator !== undefined)).toBe(false);
    expect(config).not.toHaveProperty('maxRecordLength');
  });

  it('describes the groups file: multi-valued members, nested groups as references', async () => {
    const config = groupsCsvConnectorConfig({ path: 'groups.csv', format: { separator: ';' } });
    expect(config).toMatchObject({ objectType: 'group', anchorColumn: 'Group ID' });
    expect(config.columns.map((column) => column.column)).toEqual(await headerOf((out) => writeGroupsCsv([], out)));
    expect(config.columns.find((column) => column.column === 'Members')).toEqual({ column: 'Members', attribute: 'members', separator: ';' });
    expect(config.columns.find((column) => column.column === 'Member Groups')).toEqual({ column: 'Member Groups', attribute: 'memberGroups', type: 'reference', separator: ';' });
  });

  it('raises maxRecordLength, with headroom, only for records near the default limit', () => {
    expect(groupsCsvConnectorConfig({ path: 'g.csv', longestRecord: 800_000 })).not.toHaveProperty('maxRecordLength');
    const config = groupsCsvConnectorConfig({ path: 'g.csv', longestRecord: 2_000_000 });
    expect(config.maxRecordLength).toBeGreaterThanOrEqual(2_500_000);
    expect((config.maxRecordLength as number) % 1024).toBe(0);
    expect(() => groupsCsvConnectorConfig({ path: 'g.csv', longestRecord: 60 * 1024 * 1024 })).toThrow(/^longestRecord /);
  });

  it('is plain JSON', () => {
    const config = peopleCsvConnectorConfig({ path: 'p.csv', format: { delimiter: ';' } });
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
    expect(config.delimiter).toBe(';');
  });
});
