/**
 * The LDAP connector's configuration: a plain JSON object from SQL,
 * validated with zod when the connector is saved and again before each run.
 * Validation messages name the field and never repeat a value.
 */
import { z } from 'zod';
import { ATTRIBUTE_TYPES, AttributeType } from '../connector';
import { validateConnectorConfig } from '../config-validation';
import { FilterParser } from 'ldapts';
import { DnSyntaxError, dnWithin, parseDn } from './ldap-dn';

/** Which directory product: sets the defaults for the anchor and the delta mode. */
export const LDAP_FLAVORS = ['openldap', 'active-directory', 'generic'] as const;
export type LdapFlavor = (typeof LDAP_FLAVORS)[number];

/**
 * How a delta import finds changes:
 * - `accesslog`: OpenLDAP's slapo-accesslog (`cn=accesslog`); sees adds, modifies, deletes and renames;
 * - `modifyTimestamp`: entries whose modifyTimestamp is at or after the watermark; sees adds and modifies only;
 * - `usn`: Active Directory's uSNChanged plus the Deleted Objects container; sees adds, modifies, renames and deletes.
 */
export const LDAP_DELTA_MODES = ['accesslog', 'modifyTimestamp', 'usn'] as const;
export type LdapDeltaMode = (typeof LDAP_DELTA_MODES)[number];

export const LDAP_SCOPES = ['base', 'one', 'sub'] as const;
export type LdapScope = (typeof LDAP_SCOPES)[number];

/** What the flavor sets when the config does not say. */
export const FLAVOR_DEFAULTS: Record<LdapFlavor, { anchorAttribute: string; deltaMode: LdapDeltaMode; binaryAttributes: string[] }> = {
  openldap: { anchorAttribute: 'entryUUID', deltaMode: 'accesslog', binaryAttributes: [] },
  'active-directory': { anchorAttribute: 'objectGUID', deltaMode: 'usn', binaryAttributes: ['objectGUID', 'objectSid'] },
  generic: { anchorAttribute: 'entryUUID', deltaMode: 'modifyTimestamp', binaryAttributes: [] },
};

function withinQuietly(dn: string, base: string): boolean {
  try {
    return dnWithin(dn, base, 'sub');
  } catch (error) {
    if (error instanceof DnSyntaxError) return false; // reported on the field itself
    throw error;
  }
}

const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*$/;
const attributeName = z.string().regex(ATTRIBUTE_NAME, 'must be an LDAP attribute name such as mail or userCertificate;binary');

const dn = (what: string) =>
  z.string().superRefine((value, ctx) => {
    try {
      if (parseDn(value).length === 0) ctx.addIssue({ code: 'custom', message: `${what} must not be empty` });
    } catch (error) {
      if (!(error instanceof DnSyntaxError)) throw error;
      ctx.addIssue({ code: 'custom', message: `${what} is ${error.message}` });
    }
  });

/** Literal parentheses in a filter value are escaped (\28, \29), so every raw one is structure and must pair up. */
function balanced(filter: string): boolean {
  let depth = 0;
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '(') depth++;
    else if (filter[i] === ')') depth--;
    if (depth < 0 || (depth === 0 && i < filter.length - 1)) return false;
  }
  return depth === 0;
}

const filter = z.string().superRefine((value, ctx) => {
  if (!value.startsWith('(') || !value.endsWith(')')) {
    ctx.addIssue({ code: 'custom', message: 'must be an LDAP filter in parentheses, such as (objectClass=inetOrgPerson)' });
    return;
  }
  if (!balanced(value)) {
    ctx.addIssue({ code: 'custom', message: 'is not a valid LDAP filter (unbalanced parentheses)' });
    return;
  }
  try {
    FilterParser.parseString(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `is not a valid LDAP filter (${error instanceof Error ? error.message : 'parse error'})` });
  }
});

const attributeSchema = z.union([
  attributeName,
  z.strictObject({
    name: attributeName,
    type: z.enum(ATTRIBUTE_TYPES).optional(),
    multiValued: z.boolean().optional(),
    required: z.boolean().optional(),
    readOnly: z.boolean().optional(),
  }),
]);

const objectTypeSchema = z.strictObject({
  name: z.string().min(1).max(100),
  baseDns: z.array(dn('a base DN')).min(1, 'needs at least one base DN'),
  scope: z.enum(LDAP_SCOPES).default('sub'),
  filter: filter.optional(),
  objectClasses: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be an object class name')).default([]),
  anchorAttribute: attributeName.optional(),
  attributes: z.array(attributeSchema).default([]),
  referenceAttributes: z.array(attributeName).default([]),
  binaryAttributes: z.array(attributeName).optional(),
  pageSize: z.number().int().min(1).max(100_000).optional(),
  timeLimitSeconds: z.number().int().min(0).max(86_400).optional(),
});

const ldapUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a URL such as ldaps://dc1.corp.example:636' });
    return;
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') ctx.addIssue({ code: 'custom', message: 'must start with ldap:// or ldaps://' });
  else if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'must name a host' });
  else if ((url.pathname && url.pathname !== '/') || url.search || url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must hold only the scheme, host and port' });
});

const rawConfigSchema = z
  .strictObject({
    flavor: z.enum(LDAP_FLAVORS).default('openldap'),
    url: ldapUrl.optional(),
    urls: z.array(ldapUrl).min(1).optional(),
    startTls: z.boolean().default(false),
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().default(true),
        serverName: z.string().min(1).optional(),
      })
      .default({ rejectUnauthorized: true }),
    bindDn: dn('bindDn'),
    bindPasswordSecret: z
      .string()
      .min(1)
      .max(400)
      .regex(/^\S+$/, 'must be a secret reference such as ldap/corp/bind-password (no spaces)'),
    timeouts: z
      .strictObject({
        connectMs: z.number().int().min(100).max(600_000).default(10_000),
        operationMs: z.number().int().min(100).max(3_600_000).default(120_000),
      })
      .default({ connectMs: 10_000, operationMs: 120_000 }),
    pageSize: z.number().int().min(1).max(100_000).default(500),
    maxValueBytes: z.number().int().min(1).max(1_073_741_824).default(1_048_576),
    delta: z
      .strictObject({
        mode: z.enum(LDAP_DELTA_MODES).optional(),
        accesslogBase: dn('delta.accesslogBase').default('cn=accesslog'),
        overlapSeconds: z.number().int().min(0).max(3600).default(5),
        clockSkewSeconds: z.number().int().min(0).max(86_400).default(60),
        deletedObjectsDn: dn('delta.deletedObjectsDn').optional(),
      })
      .default({ accesslogBase: 'cn=accesslog', overlapSeconds: 5, clockSkewSeconds: 60 }),
    objectTypes: z.array(objectTypeSchema).min(1, 'needs at least one object type'),
  })
  .superRefine((config, ctx) => {
    if (!config.url === !config.urls) ctx.addIssue({ code: 'custom', path: ['urls'], message: 'give either url or urls' });
    const urls = config.urls ?? (config.url ? [config.url] : []);
    if (config.startTls && urls.some((u) => u.startsWith('ldaps:'))) {
      ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already' });
    }
    const names = new Set<string>();
    config.objectTypes.forEach((type, i) => {
      if (names.has(type.name)) ctx.addIssue({ code: 'custom', path: ['objectTypes', i, 'name'], message: 'is used by another object type' });
      names.add(type.name);
      type.baseDns.forEach((base, j) => {
        const inside = type.baseDns.findIndex((other, k) => k !== j && withinQuietly(base, other));
        // One entry read from two bases would look like two objects with the same anchor.
        if (inside >= 0) ctx.addIssue({ code: 'custom', path: ['objectTypes', i, 'baseDns', j], message: `lies inside baseDns[${inside}]; list the outer one only` });
      });
      if (!type.filter && type.objectClasses.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['objectTypes', i, 'filter'], message: 'is required when objectClasses is empty' });
      }
      const mode = config.delta.mode ?? FLAVOR_DEFAULTS[config.flavor].deltaMode;
      const anchor = type.anchorAttribute ?? FLAVOR_DEFAULTS[config.flavor].anchorAttribute;
      if (mode === 'accesslog' && anchor.toLowerCase() !== 'entryuuid') {
        ctx.addIssue({ code: 'custom', path: ['objectTypes', i, 'anchorAttribute'], message: 'must be entryUUID with delta.mode accesslog (the log names entries by reqEntryUUID)' });
      }
    });
  });

export type LdapConnectorRawConfig = z.input<typeof rawConfigSchema>;

/** One attribute of an object type as configured; unset fields come from the server's schema. */
export interface LdapAttributeConfig {
  name: string;
  type?: AttributeType;
  multiValued?: boolean;
  required?: boolean;
  readOnly?: boolean;
}

export interface LdapObjectTypeConfig {
  name: string;
  baseDns: string[];
  /** @default 'sub' */
  scope: LdapScope;
  /** @default `(objectClass=<last of objectClasses>)` */
  filter: string;
  /** Written on adds; the last one names the type's structural class. @default [] */
  objectClasses: string[];
  /** @default entryUUID (openldap, generic), objectGUID (active-directory) */
  anchorAttribute: string;
  attributes: LdapAttributeConfig[];
  /** Attributes whose values are DNs of other objects (member, manager). @default [] */
  referenceAttributes: string[];
  /** Attributes read and written as bytes (base64 in connector space). @default objectGUID, objectSid for active-directory */
  binaryAttributes: string[];
  /** @default the connector's pageSize */
  pageSize: number;
  /** Server-side limit per search request; 0 lets the server decide. @default 0 */
  timeLimitSeconds: number;
}

export interface LdapConnectorConfig {
  /** @default 'openldap' */
  flavor: LdapFlavor;
  /** Tried in order when connecting; the first that answers is used. */
  urls: string[];
  /** @default false */
  startTls: boolean;
  tls: {
    /** PEM file with the CA certificate(s) to trust, instead of the system's. */
    caFile?: string;
    /** @default true */
    rejectUnauthorized: boolean;
    /** The name the certificate must carry when it differs from the URL's host. */
    serverName?: string;
  };
  bindDn: string;
  /** A secret reference, resolved through ConnectorContext.secrets at connect time. */
  bindPasswordSecret: string;
  timeouts: {
    /** @default 10000 */
    connectMs: number;
    /** Per LDAP operation, each page of a search included. @default 120000 */
    operationMs: number;
  };
  /** @default 500 */
  pageSize: number;
  /** A larger value makes its object fail with OBJECT_MALFORMED (R10). @default 1048576 */
  maxValueBytes: number;
  delta: {
    /** @default accesslog (openldap), usn (active-directory), modifyTimestamp (generic) */
    mode: LdapDeltaMode;
    /** @default 'cn=accesslog' */
    accesslogBase: string;
    /** How far out of order the accesslog may record concurrent writes. @default 5 */
    overlapSeconds: number;
    /** Allowed difference between this host's clock and the server's, when the server does not tell its time. @default 60 */
    clockSkewSeconds: number;
    /** Active Directory's deleted objects container. @default `CN=Deleted Objects,<defaultNamingContext>` */
    deletedObjectsDn?: string;
  };
  objectTypes: LdapObjectTypeConfig[];
}

/**
 * Validates a raw config and fills in every default. Throws ConnectorError
 * CONNECTOR_CONFIG_INVALID naming each bad field.
 */
export function parseLdapConfig(raw: unknown): LdapConnectorConfig {
  const c = validateConnectorConfig(rawConfigSchema, raw, { connector: 'ldap', passwordSecretSetting: 'bindPasswordSecret', passwordAtTopOnly: true });
  const defaults = FLAVOR_DEFAULTS[c.flavor];
  return {
    flavor: c.flavor,
    urls: c.urls ?? [c.url as string],
    startTls: c.startTls,
    tls: c.tls,
    bindDn: c.bindDn,
    bindPasswordSecret: c.bindPasswordSecret,
    timeouts: c.timeouts,
    pageSize: c.pageSize,
    maxValueBytes: c.maxValueBytes,
    delta: { ...c.delta, mode: c.delta.mode ?? defaults.deltaMode },
    objectTypes: c.objectTypes.map((t) => ({
      name: t.name,
      baseDns: t.baseDns,
      scope: t.scope,
      filter: t.filter ?? `(objectClass=${t.objectClasses[t.objectClasses.length - 1]})`,
      objectClasses: t.objectClasses,
      anchorAttribute: t.anchorAttribute ?? defaults.anchorAttribute,
      attributes: t.attributes.map((a) => (typeof a === 'string' ? { name: a } : a)),
      referenceAttributes: t.referenceAttributes,
      binaryAttributes: t.binaryAttributes ?? defaults.binaryAttributes,
      pageSize: t.pageSize ?? c.pageSize,
      timeLimitSeconds: t.timeLimitSeconds ?? 0,
    })),
  };
}
