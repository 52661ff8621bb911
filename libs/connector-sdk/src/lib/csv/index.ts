export { CSV_COLUMN_TYPES, CSV_ENCODINGS, csvConnectorConfigSchema, parseCsvConnectorConfig } from './csv-config';
export type { CsvColumnConfig, CsvColumnType, CsvConnectorConfig, CsvEncoding } from './csv-config';
export { CsvConnector, csvConnectorFactory } from './csv.connector';
