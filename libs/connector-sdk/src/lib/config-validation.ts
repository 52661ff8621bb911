import type { z } from 'zod';
import { ConnectorError } from './connector';

/** How a connector's config errors are worded. */
export interface ConfigWording {
  /** The connector type, as messages name it: `ldap`. */
  connector: string;
  /** The setting that names the password's secret, suggested for a plain password: `bindPasswordSecret`. */
  passwordSecretSetting: string;
  /**
   * Take only a top-level key for a misplaced password, for a connector whose
   * one password is a top-level setting: a password key deeper down (under
   * `tls`, say) is some other setting gone astray, and pointing it at the
   * password's secret would mislead.
   * @default false
   */
  passwordAtTopOnly?: boolean;
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function issueMessage(issue: z.core.$ZodIssue, wording: ConfigWording): string {
  const where = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const at = where ? `${where}.${key}` : key;
        return /password/i.test(key) && !(wording.passwordAtTopOnly && where)
          ? `${at}: plain passwords are not accepted; store it with secretscli and name it in ${wording.passwordSecretSetting}`
          : `${at}: is not a setting of the ${wording.connector} connector`;
      })
      .join('; ');
  }
  return `${where || 'config'}: ${issue.message}`;
}

/**
 * Validates a raw connector config against its schema. Throws ConnectorError
 * CONNECTOR_CONFIG_INVALID naming each bad field by its path
 * (`objectTypes[0].attributes`); values are never echoed, so a password pasted
 * into the wrong field does not end up in a log.
 */
export function validateConnectorConfig<Schema extends z.ZodType>(schema: Schema, raw: unknown, wording: ConfigWording): z.output<Schema> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConnectorError(
      'CONNECTOR_CONFIG_INVALID',
      `${wording.connector} connector config: ${result.error.issues.map((issue) => issueMessage(issue, wording)).join('; ')}`,
    );
  }
  return result.data;
}
