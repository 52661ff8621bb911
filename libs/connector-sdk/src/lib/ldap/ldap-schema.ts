/**
 * The connector schema of each object type: what the config says, completed
 * from the server's subschema (RFC 4512) where the config leaves a field
 * open, so an operator lists attribute names and gets the right value types,
 * multiplicity, required and read-only flags.
 */
import type { AttributeSchema, AttributeType, ConnectorSchema, ObjectTypeSchema } from '../connector';
import type { LdapObjectTypeConfig } from './ldap-config';

export interface SubschemaAttributeType {
  names: string[];
  oid: string;
  sup?: string;
  syntax?: string;
  singleValue: boolean;
  /** NO-USER-MODIFICATION or an operational USAGE: the server maintains it. */
  systemOnly: boolean;
}

export interface SubschemaObjectClass {
  names: string[];
  oid: string;
  sup: string[];
  must: string[];
}

export interface Subschema {
  attributeTypes: Map<string, SubschemaAttributeType>;
  objectClasses: Map<string, SubschemaObjectClass>;
}

const FLAGS = new Set(['OBSOLETE', 'SINGLE-VALUE', 'COLLECTIVE', 'NO-USER-MODIFICATION', 'ABSTRACT', 'STRUCTURAL', 'AUXILIARY']);

function tokenize(description: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|'(?:[^'\\]|\\.)*'|[^\s()']+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(description)) !== null) tokens.push(m[1]);
  return tokens;
}

/** One `( oid KEYWORD value … )` description as its oid and keyword → values. */
export function parseSchemaDescription(description: string): { oid: string; fields: Map<string, string[]> } | undefined {
  const tokens = tokenize(description);
  if (tokens[0] !== '(' || tokens.length < 3) return undefined;
  const oid = tokens[1];
  const fields = new Map<string, string[]>();
  let i = 2;
  const unquote = (t: string) => (t.startsWith("'") ? t.slice(1, -1) : t);
  while (i < tokens.length && tokens[i] !== ')') {
    const keyword = tokens[i++].toUpperCase();
    if (FLAGS.has(keyword)) {
      fields.set(keyword, []);
      continue;
    }
    const values: string[] = [];
    if (tokens[i] === '(') {
      i++;
      while (i < tokens.length && tokens[i] !== ')') {
        if (tokens[i] !== '$') values.push(unquote(tokens[i]));
        i++;
      }
      i++;
    } else if (i < tokens.length) {
      values.push(unquote(tokens[i++]));
    }
    fields.set(keyword, values);
  }
  return { oid, fields };
}

/** Builds the lookup tables from the subschema entry's attributeTypes and objectClasses values. */
export function parseSubschema(attributeTypes: string[], objectClasses: string[]): Subschema {
  const schema: Subschema = { attributeTypes: new Map(), objectClasses: new Map() };
  for (const text of attributeTypes) {
    const parsed = parseSchemaDescription(text);
    if (!parsed) continue;
    const f = parsed.fields;
    const usage = f.get('USAGE')?.[0];
    const at: SubschemaAttributeType = {
      oid: parsed.oid,
      names: f.get('NAME') ?? [],
      sup: f.get('SUP')?.[0],
      syntax: f.get('SYNTAX')?.[0]?.replace(/\{\d+\}$/, ''),
      singleValue: f.has('SINGLE-VALUE'),
      systemOnly: f.has('NO-USER-MODIFICATION') || (usage !== undefined && usage !== 'userApplications'),
    };
    for (const key of [at.oid, ...at.names]) schema.attributeTypes.set(key.toLowerCase(), at);
  }
  for (const text of objectClasses) {
    const parsed = parseSchemaDescription(text);
    if (!parsed) continue;
    const f = parsed.fields;
    const oc: SubschemaObjectClass = { oid: parsed.oid, names: f.get('NAME') ?? [], sup: f.get('SUP') ?? [], must: f.get('MUST') ?? [] };
    for (const key of [oc.oid, ...oc.names]) schema.objectClasses.set(key.toLowerCase(), oc);
  }
  return schema;
}

const SYNTAX_TYPES: Record<string, AttributeType> = {
  '1.3.6.1.4.1.1466.115.121.1.12': 'reference', // DN
  '1.3.6.1.4.1.1466.115.121.1.27': 'integer',
  '1.3.6.1.4.1.1466.115.121.1.7': 'boolean',
  '1.3.6.1.4.1.1466.115.121.1.24': 'datetime', // GeneralizedTime
  '1.3.6.1.4.1.1466.115.121.1.53': 'datetime', // UTCTime
  '1.3.6.1.4.1.1466.115.121.1.40': 'binary', // Octet String (objectGUID, objectSid)
  '1.3.6.1.4.1.1466.115.121.1.5': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.4': 'binary', // Audio
  '1.3.6.1.4.1.1466.115.121.1.8': 'binary', // Certificate
  '1.3.6.1.4.1.1466.115.121.1.9': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.10': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.28': 'binary', // JPEG
  '1.2.840.113556.1.4.907': 'binary', // AD security descriptor
  // AD Large Integer (FILETIME, 64 bits) stays text: a JavaScript number loses its low digits.
  '1.2.840.113556.1.4.906': 'string',
};

/** Follows SUP until a syntax is found (cn inherits name's syntax). */
function syntaxOf(schema: Subschema, at: SubschemaAttributeType): string | undefined {
  let current: SubschemaAttributeType | undefined = at;
  for (let depth = 0; current && depth < 20; depth++) {
    if (current.syntax) return current.syntax;
    current = current.sup ? schema.attributeTypes.get(current.sup.toLowerCase()) : undefined;
  }
  return undefined;
}

/** The attributes every one of `classes` (and their superclasses) requires, lower-cased. */
function requiredAttributes(schema: Subschema, classes: string[]): Set<string> {
  const required = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    const oc = schema.objectClasses.get(name.toLowerCase());
    if (!oc || seen.has(oc.oid)) return;
    seen.add(oc.oid);
    for (const attr of oc.must) {
      const at = schema.attributeTypes.get(attr.toLowerCase());
      for (const key of at ? [at.oid, ...at.names] : [attr]) required.add(key.toLowerCase());
    }
    oc.sup.forEach(visit);
  };
  classes.forEach(visit);
  return required;
}

const baseName = (name: string) => name.split(';')[0].toLowerCase();
const inList = (list: string[], name: string) => list.some((n) => n.toLowerCase() === name.toLowerCase());

/** Anchors the directory assigns itself: read-only, and an add never writes them. */
export const SERVER_ASSIGNED_ANCHORS = new Set(['entryuuid', 'objectguid', 'nsuniqueid', 'ipauniqueid', 'guid']);

/**
 * The names an object type reads: the anchor attribute, its attributes, then
 * its reference attributes not already listed. Names keep the config's
 * spelling, which is how they appear in connector space.
 */
export function importedAttributeNames(type: LdapObjectTypeConfig): string[] {
  const names = [type.anchorAttribute];
  for (const name of [...type.attributes.map((a) => a.name), ...type.referenceAttributes]) if (!inList(names, name)) names.push(name);
  return names;
}

/**
 * The connector schema of one object type: config first, then the
 * subschema, then safe defaults. The anchor attribute is always listed, as
 * the text the anchor is (an objectGUID as its GUID string, not bytes).
 */
export function objectTypeSchema(type: LdapObjectTypeConfig, subschema?: Subschema): ObjectTypeSchema {
  const required = subschema ? requiredAttributes(subschema, type.objectClasses) : new Set<string>();
  const attributes = importedAttributeNames(type).map((name): AttributeSchema => {
    const configured = type.attributes.find((a) => a.name.toLowerCase() === name.toLowerCase());
    const at = subschema?.attributeTypes.get(baseName(name));
    if (name === type.anchorAttribute) {
      const serverAssigned = SERVER_ASSIGNED_ANCHORS.has(name.toLowerCase());
      return { name, type: 'string', multiValued: false, required: !serverAssigned, readOnly: serverAssigned || (configured?.readOnly ?? at?.systemOnly ?? false) };
    }
    const syntax = at && subschema ? syntaxOf(subschema, at) : undefined;
    let attrType: AttributeType =
      configured?.type ??
      (inList(type.referenceAttributes, name) ? 'reference' : inList(type.binaryAttributes, name) ? 'binary' : ((syntax ? SYNTAX_TYPES[syntax] : undefined) ?? 'string'));
    if (name.toLowerCase().endsWith(';binary') && !configured?.type) attrType = 'binary';
    const schema: AttributeSchema = {
      name,
      type: attrType,
      multiValued: configured?.multiValued ?? (at ? !at.singleValue : attrType === 'reference'),
      required: configured?.required ?? (at ? required.has(at.oid.toLowerCase()) : false),
      readOnly: configured?.readOnly ?? at?.systemOnly ?? false,
    };
    if (attrType === 'reference') schema.referenceBy = 'dn';
    return schema;
  });
  return { name: type.name, anchorAttribute: type.anchorAttribute, attributes };
}

/**
 * The schema a config alone gives, without the directory's subschema: what
 * the connector falls back to when the subschema cannot be read, and what
 * an engine uses for a connector that runs on a relay (only the relay
 * reaches the directory). Attributes the config leaves untyped are strings.
 */
export function ldapSchemaFromConfig(config: { objectTypes: LdapObjectTypeConfig[] }): ConnectorSchema {
  return { objectTypes: config.objectTypes.map((type) => objectTypeSchema(type)) };
}
