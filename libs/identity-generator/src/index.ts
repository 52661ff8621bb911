export { IdentityGeneratorError, type IdentityGeneratorErrorCode } from './lib/generator.errors';
export {
  PERSON_ATTRIBUTES,
  type Department,
  type EmploymentStatus,
  type FormerEmployee,
  type Group,
  type GroupKind,
  type Person,
  type PersonAttribute,
  type Population,
  type PopulationParameters,
} from './lib/model';
export { resolvePopulationParameters, type PopulationOptions } from './lib/population-options';
export { generatePopulation } from './lib/population';
export { isInternationalName } from './lib/names';
export { compareIds } from './lib/ids';
export { ALL_STAFF_GROUP_NAME, LARGE_GROUP_NAME, departmentGroupName } from './lib/groups';
export { EXECUTIVE_OFFICE } from './lib/reference-data';
export {
  changedAttributes,
  generateDelta,
  type Delta,
  type DeltaChanges,
  type DeltaOptions,
  type DeltaSummary,
  type GroupChange,
  type ModifyKind,
  type ModifyReason,
  type PersonChange,
} from './lib/delta';
export { GROUP_COLUMNS, PERSON_COLUMNS, type FileColumn } from './lib/file-columns';
export { csvField, resolveCsvFormat, writeCsv, writeGroupsCsv, writePeopleCsv, type CsvFormat, type ResolvedCsvFormat } from './lib/csv-writer';
export { writeJsonLines } from './lib/json-lines-writer';
export { writeLines, type WriteOptions, type WriteResult } from './lib/record-writer';
export { groupsCsvConnectorConfig, peopleCsvConnectorConfig, type ConnectorConfigOptions, type CsvConnectorColumnJson, type CsvConnectorConfigJson } from './lib/connector-config';
export {
  GROUPS_CONNECTOR_JSON,
  GROUPS_CSV,
  GROUPS_JSONL,
  GROUP_CHANGES_JSONL,
  MANIFEST_JSON,
  PEOPLE_CHANGES_JSONL,
  PEOPLE_CONNECTOR_JSON,
  PEOPLE_CSV,
  PEOPLE_JSONL,
  generateToDirectory,
  type GenerateToDirectoryOptions,
  type GenerateToDirectoryResult,
  type GeneratedFile,
  type GeneratedSnapshot,
  type GenerationManifest,
} from './lib/generate-to-directory';
