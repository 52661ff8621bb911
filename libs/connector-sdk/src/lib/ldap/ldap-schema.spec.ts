import { parseLdapConfig } from './ldap-config';
import { objectTypeSchema, parseSchemaDescription, parseSubschema } from './ldap-schema';

// As OpenLDAP (and, for objectGUID, Active Directory) publish them in the subschema entry.
const ATTRIBUTE_TYPES = [
  "( 2.5.4.41 NAME 'name' DESC 'RFC4519: common supertype of name attributes' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
  "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the entity is known by' SUP name )",
  "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
  "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
  "( 2.5.4.31 NAME 'member' SUP distinguishedName )",
  "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
  "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
  "( 2.5.18.2 NAME 'modifyTimestamp' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
  "( 2.16.840.1.113730.3.1.3 NAME 'employeeNumber' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
  "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
  "( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )",
  "( 1.2.840.113556.1.4.2 NAME 'objectGUID' SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE NO-USER-MODIFICATION )",
  "( 1.2.840.113556.1.4.159 NAME 'accountExpires' SYNTAX '1.2.840.113556.1.4.906' SINGLE-VALUE )",
];
const OBJECT_CLASSES = [
  "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
  "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )",
  "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( title $ ou ) )",
  "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( mail $ employeeNumber $ jpegPhoto ) )",
  "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ description ) )",
];

describe('subschema', () => {
  it('parses RFC 4512 descriptions: names, quoted OIDs, lists, flags', () => {
    const parsed = parseSchemaDescription(ATTRIBUTE_TYPES[6]);
    expect(parsed?.oid).toBe('1.3.6.1.1.16.4');
    expect(parsed?.fields.get('NAME')).toEqual(['entryUUID']);
    expect(parsed?.fields.has('SINGLE-VALUE')).toBe(true);
    expect(parsed?.fields.get('USAGE')).toEqual(['directoryOperation']);
    expect(parseSchemaDescription(OBJECT_CLASSES[1])?.fields.get('MUST')).toEqual(['sn', 'cn']);
    expect(parseSchemaDescription('garbage')).toBeUndefined();
  });

  const subschema = parseSubschema(ATTRIBUTE_TYPES, OBJECT_CLASSES);
  const config = parseLdapConfig({
    url: 'ldap://x',
    bindDn: 'cn=a,dc=x',
    bindPasswordSecret: 's',
    delta: { mode: 'modifyTimestamp' },
    objectTypes: [
      { name: 'person', baseDns: ['dc=x'], objectClasses: ['inetOrgPerson'], attributes: ['cn', 'sn', 'mail', 'modifyTimestamp', 'employeeNumber', 'uidNumber', 'jpegPhoto', 'accountExpires'], referenceAttributes: ['manager'] },
      { name: 'group', baseDns: ['dc=x'], objectClasses: ['groupOfNames'], attributes: ['cn', 'member'] },
    ],
  });

  it('completes types, multiplicity, required and read-only from the subschema, the anchor first', () => {
    const schema = objectTypeSchema(config.objectTypes[0], subschema);
    const byName = Object.fromEntries(schema.attributes.map((a) => [a.name, a]));
    expect(schema.attributes.map((a) => a.name)).toEqual(['entryUUID', 'cn', 'sn', 'mail', 'modifyTimestamp', 'employeeNumber', 'uidNumber', 'jpegPhoto', 'accountExpires', 'manager']);
    expect(byName['entryUUID']).toEqual({ name: 'entryUUID', type: 'string', multiValued: false, required: false, readOnly: true });
    expect(byName['cn']).toEqual({ name: 'cn', type: 'string', multiValued: true, required: true, readOnly: false });
    expect(byName['mail']).toEqual({ name: 'mail', type: 'string', multiValued: true, required: false, readOnly: false });
    expect(byName['modifyTimestamp']).toEqual(expect.objectContaining({ type: 'datetime', readOnly: true, multiValued: false }));
    expect(byName['uidNumber'].type).toBe('integer');
    expect(byName['jpegPhoto'].type).toBe('binary');
    expect(byName['accountExpires'].type).toBe('string');
    expect(byName['manager']).toEqual({ name: 'manager', type: 'reference', referenceBy: 'dn', multiValued: true, required: false, readOnly: false });
  });

  it('knows DN-valued attributes as references by dn, and groupOfNames members as required', () => {
    const member = objectTypeSchema(config.objectTypes[1], subschema).attributes.find((a) => a.name === 'member');
    expect(member).toEqual({ name: 'member', type: 'reference', referenceBy: 'dn', multiValued: true, required: true, readOnly: false });
  });

  it('lets the config override the subschema', () => {
    const type = { ...config.objectTypes[0], attributes: [{ name: 'mail', type: 'string' as const, multiValued: false, readOnly: true }] };
    expect(objectTypeSchema(type, subschema).attributes.find((a) => a.name === 'mail')).toEqual({ name: 'mail', type: 'string', multiValued: false, required: false, readOnly: true });
  });

  it('falls back to strings (references for reference attributes) without a subschema', () => {
    const schema = objectTypeSchema(config.objectTypes[0]);
    expect(schema.attributes.find((a) => a.name === 'cn')?.type).toBe('string');
    expect(schema.attributes.find((a) => a.name === 'manager')?.type).toBe('reference');
  });

  it('lists an objectGUID anchor as its GUID string, read-only', () => {
    const ad = parseLdapConfig({
      flavor: 'active-directory',
      url: 'ldap://x',
      bindDn: 'cn=a,dc=x',
      bindPasswordSecret: 's',
      objectTypes: [{ name: 'user', baseDns: ['dc=x'], objectClasses: ['user'], attributes: ['objectGUID', 'cn'] }],
    });
    expect(objectTypeSchema(ad.objectTypes[0], subschema).attributes[0]).toEqual({ name: 'objectGUID', type: 'string', multiValued: false, required: false, readOnly: true });
  });
});
