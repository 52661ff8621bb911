export { parseSqlConnectorConfig, SQL_ANCHOR_TYPES, SQL_COLUMN_TYPES, SQL_SOFT_DELETE_TYPES } from './sql-config';
export type { SqlAnchorType, SqlAttributeConfig, SqlColumnType, SqlConnectionConfig, SqlConnectorConfig, SqlConnectorRawConfig, SqlObjectTypeConfig, SqlSoftDeleteType } from './sql-config';
export { SqlConnector, sqlConnectorFactory } from './sql-connector';
export { SQL_DIALECTS, SQL_WATERMARK_TYPES } from './sql-dialect';
export type { SqlDialectName, SqlWatermarkType } from './sql-dialect';
export { isSqlIdentifier, SQL_IDENTIFIER_PATTERN } from './sql-identifiers';
