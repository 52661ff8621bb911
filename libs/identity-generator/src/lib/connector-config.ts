import { resolveCsvFormat, type CsvFormat } from './csv-writer';
import { invalidParameter } from './generator.errors';
import { GROUP_COLUMNS, PERSON_COLUMNS, type FileColumn } from './file-columns';

/**
 * The configuration of a `csv` connector as plain JSON, in the shape of
 * docs/connectors/csv.md. Written out here rather than imported from the
 * connector SDK: this lib is a utility, and the connector validates it when it
 * is saved anyway.
 */
export interface CsvConnectorConfigJson {
  path: string;
  objectType: string;
  delimiter: string;
  quote: string;
  encoding: 'utf-8';
  header: true;
  anchorColumn: string;
  columns: CsvConnectorColumnJson[];
  maxRecordLength?: number;
  export: { enabled: false };
}

export interface CsvConnectorColumnJson {
  column: string;
  attribute: string;
  type?: 'reference' | 'datetime';
  separator?: string;
  required?: true;
}

export interface ConnectorConfigOptions {
  /** The file's path as the engine (or relay agent) that reads it sees it. */
  path: string;
  /** The format the file was written in. @default the writers' defaults */
  format?: CsvFormat;
  /**
   * The longest record of the file(s) this connector will read, from the
   * writers' results. Above the connector's default limit (1 MiB, which an
   * All Staff row of ~130k members reaches) the config raises `maxRecordLength`.
   */
  longestRecord?: number;
}

/** The connector's default and largest accepted `maxRecordLength`. */
const DEFAULT_MAX_RECORD_LENGTH = 1024 * 1024;
const LARGEST_MAX_RECORD_LENGTH = 64 * 1024 * 1024;
/** Room for the file to grow by later deltas before the limit needs raising again. */
const RECORD_LENGTH_HEADROOM = 1.25;

function configFor<T>(objectType: string, columns: readonly FileColumn<T>[], options: ConnectorConfigOptions): CsvConnectorConfigJson {
  const format = resolveCsvFormat(options.format);
  const config: CsvConnectorConfigJson = {
    path: options.path,
    objectType,
    delimiter: format.delimiter,
    quote: format.quote,
    encoding: 'utf-8',
    header: true,
    anchorColumn: columns[0].column,
    columns: columns.map((column) => ({
      column: column.column,
      attribute: column.attribute,
      ...(column.type ? { type: column.type } : {}),
      ...(column.multiValued ? { separator: format.separator } : {}),
      ...(column.required ? { required: true as const } : {}),
    })),
    export: { enabled: false },
  };
  const longest = options.longestRecord ?? 0;
  if (longest * RECORD_LENGTH_HEADROOM > DEFAULT_MAX_RECORD_LENGTH) {
    const limit = Math.ceil((longest * RECORD_LENGTH_HEADROOM) / 1024) * 1024;
    if (limit > LARGEST_MAX_RECORD_LENGTH) throw invalidParameter('longestRecord', `${longest} needs a maxRecordLength above the connector's largest (${LARGEST_MAX_RECORD_LENGTH})`);
    config.maxRecordLength = limit;
  }
  return config;
}

/** A `csv` connector reading the people file: object type `person`, anchor `Employee ID`, `Manager` a reference. */
export function peopleCsvConnectorConfig(options: ConnectorConfigOptions): CsvConnectorConfigJson {
  return configFor('person', PERSON_COLUMNS, options);
}

/** A `csv` connector reading the groups file: object type `group`, anchor `Group ID`, `Members` and `Member Groups` multi-valued. */
export function groupsCsvConnectorConfig(options: ConnectorConfigOptions): CsvConnectorConfigJson {
  return configFor('group', GROUP_COLUMNS, options);
}
