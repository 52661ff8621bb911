import type { Entry } from 'ldapts';
import { parseLdapConfig } from './ldap-config';
import { anchorCodec, convertEntry } from './ldap-entry';
import { objectTypeSchema } from './ldap-schema';
import { guidToBytes } from './ldap-values';

const config = parseLdapConfig({
  url: 'ldap://x',
  bindDn: 'cn=a,dc=x',
  bindPasswordSecret: 's',
  objectTypes: [
    {
      name: 'person',
      baseDns: ['ou=people,dc=x'],
      objectClasses: ['inetOrgPerson'],
      attributes: ['cn', 'description', { name: 'uidNumber', type: 'integer' }],
      referenceAttributes: ['manager'],
      binaryAttributes: ['jpegPhoto'],
    },
  ],
});
const type = config.objectTypes[0];
const schema = objectTypeSchema(type);
const uuid = '3e8650bc-7b80-1041-8ac8-d3aed3929fa1';
const b = (text: string) => Buffer.from(text, 'utf8');

const entry = (fields: Record<string, Buffer | Buffer[]>): Entry => ({ dn: 'uid=ann,ou=people,dc=x', entryUUID: b(uuid.toUpperCase()), ...fields });

describe('convertEntry', () => {
  it('turns an entry into an upsert, every schema attribute present, the anchor lower-cased', () => {
    const result = convertEntry(entry({ cn: [b('Ann'), b('Ann Example')], uidNumber: b('1001'), manager: b('uid=boss,ou=people,dc=x') }), type, schema, 1024);
    expect(result).toEqual({
      ok: true,
      object: {
        objectType: 'person',
        anchor: uuid,
        dn: 'uid=ann,ou=people,dc=x',
        attributes: { entryUUID: [uuid], cn: ['Ann', 'Ann Example'], description: [], uidNumber: [1001], manager: ['uid=boss,ou=people,dc=x'] },
      },
    });
  });

  it('matches attribute names case-insensitively, keeping the schema spelling', () => {
    const result = convertEntry({ dn: 'uid=ann,ou=people,dc=x', ENTRYUUID: b(uuid), CN: b('Ann') }, type, schema, 1024);
    expect(result.ok && result.object.attributes['cn']).toEqual(['Ann']);
  });

  it.each([
    ['no anchor', { dn: 'uid=ann,ou=people,dc=x', cn: b('Ann') }, 'has no entryUUID (the anchor attribute)', undefined],
    ['two anchors', { dn: 'uid=ann,ou=people,dc=x', entryUUID: [b(uuid), b(uuid)] }, '2 values of entryUUID', undefined],
    ['undecodable text', entry({ cn: Buffer.from([0x41, 0xff]) }), 'cn is not valid UTF-8', uuid],
    ['a huge value', entry({ description: b('x'.repeat(2000)) }), 'description has 2000 bytes, over the limit of 1024 (maxValueBytes)', uuid],
    ['a reference that is not a DN', entry({ manager: b('x)(uid=*') }), 'manager is not a distinguished name', uuid],
    ['an integer that is not one', entry({ uidNumber: b('12; drop') }), 'uidNumber is not an integer', uuid],
  ])('fails alone with OBJECT_MALFORMED for %s, naming the DN and never the value', (_what, input, message, anchor) => {
    const result = convertEntry(input as Entry, type, schema, 1024);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual({ objectType: 'person', anchor, position: 'uid=ann,ou=people,dc=x', code: 'OBJECT_MALFORMED', message: expect.stringContaining(message) });
    expect(result.error.message).not.toContain('x)(uid');
    expect(result.error.message).not.toContain('drop');
  });

  it('reports every bad attribute of an entry in one error', () => {
    const result = convertEntry(entry({ cn: Buffer.from([0xff]), manager: b('nope') }), type, schema, 1024);
    expect(!result.ok && result.error.message).toBe('cn is not valid UTF-8 text (declare the attribute as binary if it holds bytes); manager is not a distinguished name');
  });

  it('refuses an entry whose DN does not parse', () => {
    const result = convertEntry({ dn: 'garbage', entryUUID: b(uuid) }, type, schema, 1024);
    expect(!result.ok && result.error.message).toContain('DN does not parse');
  });
});

describe('anchorCodec', () => {
  it('uses the GUID string for an AD objectGUID, and its bytes for searches', () => {
    const ad = parseLdapConfig({ flavor: 'active-directory', url: 'ldap://x', bindDn: 'cn=a,dc=x', bindPasswordSecret: 's', objectTypes: [{ name: 'user', baseDns: ['dc=x'], objectClasses: ['user'] }] });
    const codec = anchorCodec(ad.objectTypes[0]);
    const guid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    expect(codec.decode(guidToBytes(guid))).toBe(guid);
    expect(codec.encode(guid)).toEqual(guidToBytes(guid));
    expect(codec.decode(Buffer.alloc(3))).toBeUndefined();
  });
});
