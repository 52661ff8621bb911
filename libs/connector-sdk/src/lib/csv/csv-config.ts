import { z } from 'zod';
import { ConnectorError } from '../connector';

/**
 * The encodings a delimited file may be in. `latin1` is read and written as
 * windows-1252, as browsers and Excel treat it: the two differ only in
 * 0x80–0x9F, where real ISO-8859-1 files hold no text (and windows-1252 files
 * hold €, „, “ …).
 */
export const CSV_ENCODINGS = ['utf-8', 'utf-8-bom', 'windows-1252', 'latin1', 'utf-16le'] as const;
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

/** The attribute types a column can hold (binary values have no place in a text file). */
export const CSV_COLUMN_TYPES = ['string', 'integer', 'boolean', 'datetime', 'reference'] as const;
export type CsvColumnType = (typeof CSV_COLUMN_TYPES)[number];

const singleCharacter = (what: string) =>
  z.string().refine((value) => [...value].length === 1 && value !== '\n' && value !== '\r', { message: `must be one character (not a line break) for the ${what}` });

const columnSchema = z.strictObject({
  column: z.string().trim().min(1, 'must name a column of the file'),
  attribute: z.string().trim().min(1).optional(),
  type: z.enum(CSV_COLUMN_TYPES).default('string'),
  separator: z.string().min(1).optional(),
  required: z.boolean().default(false),
});

export const csvConnectorConfigSchema = z
  .strictObject({
    path: z.string().trim().min(1, 'must be the path of the file'),
    objectType: z.string().trim().min(1).default('person'),
    delimiter: singleCharacter('delimiter').default(','),
    quote: singleCharacter('quote').default('"'),
    encoding: z.enum(CSV_ENCODINGS).default('utf-8'),
    header: z.boolean().default(true),
    columnNames: z.array(z.string().trim().min(1)).min(1).optional(),
    anchorColumn: z.string().trim().min(1, 'must name the column holding the anchor'),
    dnColumn: z.string().trim().min(1).optional(),
    columns: z.array(columnSchema).min(1, 'must map at least one column'),
    trim: z.boolean().default(true),
    maxLinesPerRecord: z.number().int().min(1).max(10_000).default(100),
    maxRecordLength: z.number().int().min(1_024).max(64 * 1024 * 1024).default(1024 * 1024),
    export: z
      .strictObject({
        enabled: z.boolean().default(false),
        lineEnding: z.enum(['\r\n', '\n']).default('\r\n'),
        quoteAll: z.boolean().default(false),
      })
      .default({ enabled: false, lineEnding: '\r\n', quoteAll: false }),
  })
  .superRefine((config, ctx) => {
    if (config.delimiter === config.quote) {
      ctx.addIssue({ code: 'custom', path: ['quote'], message: 'must differ from the delimiter' });
    }
    if (!config.header && !config.columnNames) {
      ctx.addIssue({ code: 'custom', path: ['columnNames'], message: "is required when the file has no header row (header: false)" });
    }
    const fileColumns = new Set(config.columnNames ?? []);
    const seenColumns = new Set<string>();
    const seenAttributes = new Set<string>();
    config.columns.forEach((column, index) => {
      const attribute = column.attribute ?? column.column;
      if (seenColumns.has(column.column)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'column'], message: `maps column '${column.column}' a second time` });
      }
      if (seenAttributes.has(attribute)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'attribute'], message: `maps attribute '${attribute}' a second time` });
      }
      seenColumns.add(column.column);
      seenAttributes.add(attribute);
      if (config.columnNames && !fileColumns.has(column.column)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'column'], message: `'${column.column}' is not one of columnNames` });
      }
      if (column.separator !== undefined && (column.separator === config.delimiter || column.separator === config.quote)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'separator'], message: 'must differ from the delimiter and the quote' });
      }
    });
    const anchor = config.columns.find((column) => column.column === config.anchorColumn);
    if (!anchor) {
      ctx.addIssue({ code: 'custom', path: ['anchorColumn'], message: `'${config.anchorColumn}' must be one of the mapped columns` });
    } else if (anchor.separator !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['anchorColumn'], message: 'an anchor holds one value: its column cannot have a separator' });
    }
    if (config.dnColumn !== undefined && config.columnNames && !fileColumns.has(config.dnColumn)) {
      ctx.addIssue({ code: 'custom', path: ['dnColumn'], message: `'${config.dnColumn}' is not one of columnNames` });
    }
    if (config.dnColumn !== undefined && config.columns.find((column) => column.column === config.dnColumn)?.separator !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['dnColumn'], message: 'a display key holds one value: its column cannot have a separator' });
    }
  });

/** One mapped column of a delimited file. */
export interface CsvColumnConfig {
  /** The column's name in the header row (or in `columnNames`). */
  column: string;
  /** The attribute it maps to. @default the column name */
  attribute?: string;
  /** `reference` values are anchors of other rows of the same file (a manager's employee id). @default 'string' */
  type: CsvColumnType;
  /** Makes the column multi-valued: its cell holds values joined by this text (`|`, `;`). */
  separator?: string;
  /** Exports refuse an object without a value for it. @default false */
  required: boolean;
}

/** The validated configuration of a `csv` connector. */
export interface CsvConnectorConfig {
  /** The file: read by imports, rewritten by exports. */
  path: string;
  /** The object type its rows are. @default 'person' */
  objectType: string;
  /** One character; `\t` for tab-separated files. @default ',' */
  delimiter: string;
  /** One character; inside a quoted field it is doubled (RFC 4180). @default '"' */
  quote: string;
  /** @default 'utf-8' */
  encoding: CsvEncoding;
  /** The first row names the columns. @default true */
  header: boolean;
  /** The file's columns in order, for a file without a header row. */
  columnNames?: string[];
  /** The column holding the anchor: the row's immutable id (an employee id). */
  anchorColumn: string;
  /** A column holding the object's display key, reported as its `dn`; a rename rewrites it. */
  dnColumn?: string;
  columns: CsvColumnConfig[];
  /** Ignore whitespace around unquoted values and around quotes. @default true */
  trim: boolean;
  /** How many lines one quoted record may span before an unclosed quote is reported. @default 100 */
  maxLinesPerRecord: number;
  /** The longest record, in characters, read before it is reported as malformed. @default 1048576 */
  maxRecordLength: number;
  export: {
    /** The connector may rewrite the file. @default false */
    enabled: boolean;
    /** @default '\r\n' */
    lineEnding: '\r\n' | '\n';
    /** Quote every field, not only those that need it. @default false */
    quoteAll: boolean;
  };
}

/**
 * Validates a `csv` connector config from SQL or the Admin API. Throws
 * ConnectorError CONNECTOR_CONFIG_INVALID naming every bad field.
 */
export function parseCsvConnectorConfig(config: unknown): CsvConnectorConfig {
  const result = csvConnectorConfigSchema.safeParse(config);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'config'}: ${issue.message}`);
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `Invalid csv connector config: ${problems.join('; ')}`);
  }
  return result.data;
}

/** The encoding name iconv-lite knows it by. */
export function iconvEncoding(encoding: CsvEncoding): string {
  switch (encoding) {
    case 'utf-8':
    case 'utf-8-bom':
      return 'utf-8';
    case 'windows-1252':
    case 'latin1':
      return 'windows-1252';
    case 'utf-16le':
      return 'utf-16le';
  }
}
