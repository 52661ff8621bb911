/**
 * A search entry as a connector-space object, or as a per-object error when
 * the directory holds something the engine must not take in (R10): no
 * anchor, text that is not UTF-8, a value over the size limit, a reference
 * that is not a DN.
 */
import type { Entry } from 'ldapts';
import type { ImportedObject, ImportObjectError, ObjectTypeSchema } from '../connector';
import type { LdapObjectTypeConfig } from './ldap-config';
import { decodeUtf8, isDn } from './ldap-dn';
import { entryBytes } from './ldap-session';
import { decodeValue, guidToBytes, guidToString, isGuid, ValueConversionError } from './ldap-values';

export type EntryConversion = { ok: true; object: ImportedObject } | { ok: false; error: ImportObjectError };

/** How the anchor attribute's bytes become the anchor string, and back for searches. */
export function anchorCodec(type: LdapObjectTypeConfig): { decode(raw: Buffer): string | undefined; encode(anchor: string): string | Buffer } {
  const name = type.anchorAttribute.toLowerCase();
  if (name === 'objectguid') {
    return {
      decode: (raw) => (raw.length === 16 ? guidToString(raw) : undefined),
      encode: (anchor) => (isGuid(anchor) ? guidToBytes(anchor) : Buffer.from(anchor, 'utf8')),
    };
  }
  if (type.binaryAttributes.some((b) => b.toLowerCase() === name)) {
    return { decode: (raw) => (raw.length > 0 ? raw.toString('base64') : undefined), encode: (anchor) => Buffer.from(anchor, 'base64') };
  }
  return {
    // entryUUID is case-insensitive; one spelling keeps anchors comparable across full and delta imports.
    decode: (raw) => {
      const text = decodeUtf8(raw)?.trim();
      if (!text) return undefined;
      return name === 'entryuuid' ? text.toLowerCase() : text;
    },
    encode: (anchor) => anchor,
  };
}

export function convertEntry(entry: Entry, type: LdapObjectTypeConfig, schema: ObjectTypeSchema, maxValueBytes: number): EntryConversion {
  const position = entry.dn;
  const fail = (message: string, anchor?: string): EntryConversion => ({
    ok: false,
    error: { objectType: type.name, anchor, position, code: 'OBJECT_MALFORMED', message },
  });
  if (!isDn(entry.dn)) return fail('the entry\'s DN does not parse as a distinguished name');

  const anchorValues = entryBytes(entry, type.anchorAttribute);
  if (anchorValues.length === 0) return fail(`has no ${type.anchorAttribute} (the anchor attribute)`);
  if (anchorValues.length > 1) return fail(`has ${anchorValues.length} values of ${type.anchorAttribute}; an anchor has one`);
  const anchor = anchorCodec(type).decode(anchorValues[0]);
  if (anchor === undefined) return fail(`${type.anchorAttribute} is not a valid anchor value`);

  const attributes: ImportedObject['attributes'] = {};
  const problems: string[] = [];
  for (const attr of schema.attributes) {
    if (attr.name === type.anchorAttribute) {
      attributes[attr.name] = [anchor];
      continue;
    }
    const raws = entryBytes(entry, attr.name);
    const values: ImportedObject['attributes'][string] = [];
    raws.forEach((raw, i) => {
      const which = raws.length > 1 ? `${attr.name} value ${i + 1}` : attr.name;
      if (raw.length > maxValueBytes) {
        problems.push(`${which} has ${raw.length} bytes, over the limit of ${maxValueBytes} (maxValueBytes)`);
        return;
      }
      try {
        values.push(decodeValue(raw, attr.type));
      } catch (error) {
        if (!(error instanceof ValueConversionError)) throw error;
        problems.push(`${which} ${error.message}`);
      }
    });
    attributes[attr.name] = values;
  }
  if (problems.length > 0) return fail(problems.join('; '), anchor);
  return { ok: true, object: { objectType: type.name, anchor, dn: entry.dn, attributes } };
}
