import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connector, ConnectorContext, CsvConnectorConfig, csvConnectorFactory } from '@identitymesh/connector-sdk';
import type { ConformanceHarness, ConformanceObject } from '../../lib/conformance-harness';
import { describeConnectorConformance } from '../../lib/describe-connector-conformance';
import { CsvFileDriver, CsvFileLayout } from './support/csv-file-driver';

/*
 * The CSV connector against its real system: files in a temp directory,
 * edited directly by the driver.
 */

const context: ConnectorContext = {
  connectorId: 'conformance-csv',
  secrets: { resolve: async () => Promise.reject(new Error('a csv connector holds no secrets')) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
};

const COLUMNS = [
  { column: 'GivenName', attribute: 'givenName' },
  { column: 'Surname', attribute: 'sn', required: true },
  { column: 'Mail', attribute: 'mail' },
  { column: 'Groups', attribute: 'groups', separator: '|' },
  { column: 'ManagerID', attribute: 'manager', type: 'reference' },
];

interface Dialect {
  name: string;
  export: boolean;
  delimiter: string;
  encoding: CsvConnectorConfig['encoding'];
  iconvEncoding: string;
  bom: boolean;
  lineEnding: '\r\n' | '\n';
}

function csvHarness(dialect: Dialect): ConformanceHarness {
  let directory: string | undefined;

  const configFor = (path: string) =>
    csvConnectorFactory.validate({
      path,
      delimiter: dialect.delimiter,
      encoding: dialect.encoding,
      anchorColumn: 'EmployeeID',
      dnColumn: 'Login',
      columns: [{ column: 'EmployeeID', attribute: 'employeeId' }, ...COLUMNS],
      export: { enabled: dialect.export, lineEnding: dialect.lineEnding },
    });
  const layoutFor = (path: string): CsvFileLayout => ({
    path,
    objectType: 'person',
    delimiter: dialect.delimiter,
    encoding: dialect.iconvEncoding,
    bom: dialect.bom,
    lineEnding: dialect.lineEnding,
    anchorColumn: 'EmployeeID',
    anchorAttribute: 'employeeId',
    dnColumn: 'Login',
    columns: COLUMNS,
  });
  const person = (n: number): ConformanceObject => {
    const id = `E${String(n).padStart(5, '0')}`;
    return {
      anchor: id,
      dn: `user${n}`,
      attributes: {
        employeeId: [id],
        // Names that need the encoding, quoting and the delimiter.
        givenName: [n % 2 === 0 ? `Zoë ${n}` : `Jean-Luc "JL" ${n}`],
        sn: [`Ångström${dialect.delimiter} ${n}`],
        mail: [`user${n}@corp.example`],
        groups: n % 3 === 0 ? [] : ['Staff', `Team ${n % 4}`],
        manager: n === 0 ? [] : ['E00000'],
      },
    };
  };
  const path = () => {
    if (!directory) throw new Error('setUp has not run');
    return join(directory, 'people.csv');
  };

  return {
    objectType: 'person',
    capabilities: { deltaImport: 'snapshot', export: dialect.export, rename: dialect.export, assignsAnchorOnAdd: false },
    batchSize: 4,
    async setUp() {
      directory = await mkdtemp(join(tmpdir(), 'im-csv-conformance-'));
      const file = path();
      const driver = new CsvFileDriver(layoutFor(file));
      // An HR feed exists before the first run (header only); an export target is created by the first export.
      if (!dialect.export) await driver.seed([]);
      const connect = (): Connector => csvConnectorFactory.create(configFor(file), context);
      return { connector: connect(), driver, reconnect: connect };
    },
    async tearDown() {
      if (directory) await rm(directory, { recursive: true, force: true });
      directory = undefined;
    },
    brokenConnector: () => csvConnectorFactory.create(configFor(join(path(), 'no-such-directory', 'people.csv')), context),
    factory: csvConnectorFactory,
    invalidConfigs: [
      {},
      { path: 'people.csv', anchorColumn: 'EmployeeID', columns: [] },
      { path: 'people.csv', anchorColumn: 'Missing', columns: [{ column: 'EmployeeID' }] },
      { path: 'people.csv', anchorColumn: 'EmployeeID', delimiter: ';;', columns: [{ column: 'EmployeeID' }] },
      { path: 'people.csv', anchorColumn: 'EmployeeID', encoding: 'ebcdic', columns: [{ column: 'EmployeeID' }] },
      { path: 'people.csv', anchorColumn: 'EmployeeID', columns: [{ column: 'EmployeeID' }], unknownSetting: true },
    ],
    samples: {
      valid: person,
      rejected: { anchor: 'E-NO-SURNAME', dn: 'nosurname', attributes: { employeeId: ['E-NO-SURNAME'], givenName: ['Nobody'] } },
      update: { sn: ['Øster, Renamed'], mail: ['changed@corp.example'], groups: ['Alumni'] },
      renamedDn: (object) => `${object.dn}.renamed`,
    },
    async injectMalformed(system) {
      await (system.driver as CsvFileDriver).appendMalformed();
    },
  };
}

describeConnectorConformance('csv (export target; semicolons, windows-1252, CRLF)', csvHarness({
  name: 'target',
  export: true,
  delimiter: ';',
  encoding: 'windows-1252',
  iconvEncoding: 'windows-1252',
  bom: false,
  lineEnding: '\r\n',
}));

describeConnectorConformance('csv (HR feed; tabs, utf-16le with BOM, LF)', csvHarness({
  name: 'feed',
  export: false,
  delimiter: '\t',
  encoding: 'utf-16le',
  iconvEncoding: 'utf-16le',
  bom: true,
  lineEnding: '\n',
}));
