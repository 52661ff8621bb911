import type { Entry } from 'ldapts';
import { ConnectorError } from '../connector';
import { parseLdapConfig } from './ldap-config';
import {
  AccesslogCursor,
  accesslogFilter,
  AD_SHOW_DELETED_OID,
  anchorsFilter,
  completeRangedAttributes,
  decodeWatermark,
  deletedObjectsRequest,
  encodeWatermark,
  modifyTimestampFilter,
  nextModifyTimestamp,
  parseAccesslogEntry,
  parseTombstone,
  reqStartFloor,
  shiftReqStart,
  tombstoneAnchor,
  tombstoneTypes,
  typesConcerned,
  usnChangedFilter,
} from './ldap-delta';
import { guidToBytes } from './ldap-values';

const adConfig = parseLdapConfig({
  flavor: 'active-directory',
  url: 'ldaps://dc1.corp.example',
  bindDn: 'CN=IdentityMesh Sync,OU=Service Accounts,DC=corp,DC=example',
  bindPasswordSecret: 'ldap/corp/bind-password',
  objectTypes: [
    { name: 'user', baseDns: ['OU=Staff,DC=corp,DC=example'], filter: '(&(objectCategory=person)(objectClass=user))', objectClasses: ['top', 'person', 'organizationalPerson', 'user'] },
    { name: 'group', baseDns: ['OU=Groups,DC=corp,DC=example'], objectClasses: ['top', 'group'], referenceAttributes: ['member'] },
  ],
});
const [adUser, adGroup] = adConfig.objectTypes;

describe('Active Directory USN deltas (request building, not run against a live AD)', () => {
  it('asks for uSNChanged above the watermark with >=, as AD filters know no >', () => {
    expect(usnChangedFilter(adUser, '12345').toString()).toBe('(&(&(objectCategory=person)(objectClass=user))(uSNChanged>=12346))');
    expect(usnChangedFilter(adGroup, '99999999999999999999').toString()).toBe('(&(objectClass=group)(uSNChanged>=100000000000000000000))');
  });

  it('reads tombstones from the Deleted Objects container with the critical show-deleted control', () => {
    const request = deletedObjectsRequest(adConfig, [adUser, adGroup], '12345', 'DC=corp,DC=example');
    expect(request.base).toBe('CN=Deleted Objects,DC=corp,DC=example');
    expect(request.scope).toBe('one');
    expect(request.filter.toString()).toBe('(&(isDeleted=TRUE)(uSNChanged>=12346))');
    expect(request.attributes).toEqual(expect.arrayContaining(['objectGUID', 'objectClass', 'lastKnownParent', 'isDeleted']));
    expect(request.controls.map((c) => [c.type, c.critical])).toEqual([[AD_SHOW_DELETED_OID, true]]);
    expect(AD_SHOW_DELETED_OID).toBe('1.2.840.113556.1.4.417');
  });

  it('uses a configured Deleted Objects container, and says so when neither is known', () => {
    const configured = { ...adConfig, delta: { ...adConfig.delta, deletedObjectsDn: 'CN=Deleted Objects,DC=child,DC=corp,DC=example' } };
    expect(deletedObjectsRequest(configured, [adUser], '1', undefined).base).toBe('CN=Deleted Objects,DC=child,DC=corp,DC=example');
    expect(() => deletedObjectsRequest(adConfig, [adUser], '1', undefined)).toThrow(ConnectorError);
  });

  const guid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
  const tombstone = (classes: string[], parent?: string): Entry => ({
    dn: `CN=Ann Example\\0ADEL:${guid},CN=Deleted Objects,DC=corp,DC=example`,
    objectGUID: guidToBytes(guid),
    objectClass: classes.map((c) => Buffer.from(c)),
    isDeleted: Buffer.from('TRUE'),
    ...(parent ? { lastKnownParent: Buffer.from(parent) } : {}),
  });

  it('turns a tombstone into a delete of the object types it was part of, anchored by its GUID string', () => {
    const entry = tombstone(['top', 'person', 'organizationalPerson', 'user'], 'OU=Staff,DC=corp,DC=example');
    const parsed = parseTombstone(entry);
    expect(parsed.lastKnownParent).toBe('OU=Staff,DC=corp,DC=example');
    expect(tombstoneTypes(parsed, [adUser, adGroup]).map((t) => t.name)).toEqual(['user']);
    expect(tombstoneAnchor(entry, adUser)).toBe(guid);
  });

  it('leaves out tombstones whose last parent is outside every base', () => {
    const parsed = parseTombstone(tombstone(['top', 'person', 'organizationalPerson', 'user'], 'OU=Contractors,DC=corp,DC=example'));
    expect(tombstoneTypes(parsed, [adUser, adGroup])).toEqual([]);
  });

  it('matches by object class alone when lastKnownParent is not readable', () => {
    expect(tombstoneTypes(parseTombstone(tombstone(['top', 'group'])), [adUser, adGroup]).map((t) => t.name)).toEqual(['group']);
  });

  it('searches objectGUID anchors as bytes', () => {
    const filter = anchorsFilter(adUser, [guid], (anchor) => guidToBytes(anchor));
    expect(filter.toString()).toBe('(&(&(objectCategory=person)(objectClass=user))(objectGUID=\\e0\\04\\25\\3f\\89\\4f\\d3\\11\\9a\\0c\\03\\05\\e8\\2c\\33\\01))');
  });

  it('folds ranged values (member;range=0-1499) into the attribute, fetching the rest', async () => {
    const entry: Entry = { dn: 'CN=Big,OU=Groups,DC=corp,DC=example', 'member;range=0-1': [Buffer.from('CN=a'), Buffer.from('CN=b')] };
    const asked: string[] = [];
    await completeRangedAttributes(entry, async (_dn, attribute): Promise<Entry> => {
      asked.push(attribute);
      return attribute === 'member;range=2-*'
        ? { dn: entry.dn, 'member;range=2-3': [Buffer.from('CN=c'), Buffer.from('CN=d')] }
        : { dn: entry.dn, 'member;range=4-*': [Buffer.from('CN=e')] };
    });
    expect(asked).toEqual(['member;range=2-*', 'member;range=4-*']);
    expect((entry['member'] as Buffer[]).map(String)).toEqual(['CN=a', 'CN=b', 'CN=c', 'CN=d', 'CN=e']);
    expect(Object.keys(entry).filter((k) => k.includes('range'))).toEqual([]);
  });
});

describe('watermarks', () => {
  it('round-trips each mode through the stored string', () => {
    const seen = new Set(['20240501120000.000003Z', '20240501120004.000011Z']);
    const accesslog = decodeWatermark(encodeWatermark({ mode: 'accesslog', from: '20240501120000.000000Z', seen }), 'accesslog');
    expect(accesslog).toEqual({ mode: 'accesslog', from: '20240501120000.000000Z', seen });
    expect(decodeWatermark(encodeWatermark({ mode: 'modifyTimestamp', since: '20240501120000Z' }), 'modifyTimestamp')).toEqual({ mode: 'modifyTimestamp', since: '20240501120000Z' });
    expect(decodeWatermark(encodeWatermark({ mode: 'usn', usn: '123456', dc: 'CN=NTDS Settings,CN=DC1' }), 'usn')).toEqual({ mode: 'usn', usn: '123456', dc: 'CN=NTDS Settings,CN=DC1' });
  });

  it('stores the seen accesslog records compactly', () => {
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => `20240501120${String(Math.floor(i / 100)).padStart(3, '0')}.${String(i).padStart(6, '0')}Z`));
    const text = encodeWatermark({ mode: 'accesslog', from: '20240501120000.000000Z', seen });
    expect(text.length).toBeLessThan(12 * 1000);
    expect((decodeWatermark(text, 'accesslog') as { seen: Set<string> }).seen).toEqual(seen);
  });

  it('refuses a watermark of another delta mode or of something else, pointing to a full import', () => {
    const usn = encodeWatermark({ mode: 'usn', usn: '1' });
    expect(() => decodeWatermark(usn, 'accesslog')).toThrow('run a full import');
    expect(() => decodeWatermark('not json', 'accesslog')).toThrow(ConnectorError);
    expect(() => decodeWatermark('{"v":2,"mode":"usn","usn":"1"}', 'usn')).toThrow('not written by the ldap connector');
  });

  it('moves reqStart bounds by whole seconds', () => {
    expect(reqStartFloor(new Date('2024-05-01T12:00:05.900Z'))).toBe('20240501120005.000000Z');
    expect(shiftReqStart('20240501120005.000123Z', -10)).toBe('20240501115955.000000Z');
  });

  it('modifyTimestamp: the next watermark is the start time minus the margin', () => {
    expect(nextModifyTimestamp(new Date('2024-05-01T12:00:00Z'), 65)).toBe('20240501115855Z');
    expect(modifyTimestampFilter(adGroup, '20240501115855Z').toString()).toBe('(&(objectClass=group)(modifyTimestamp>=20240501115855Z))');
  });
});

describe('accesslog', () => {
  const log = (fields: Record<string, string>): Entry => ({
    dn: `reqStart=${fields['reqStart']},cn=accesslog`,
    ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v)])),
  });

  it('searches successful writes from the lower bound on', () => {
    expect(accesslogFilter('20240501120000.000000Z').toString()).toBe('(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>=20240501120000.000000Z))');
  });

  it('reads records, working out where a renamed entry went', () => {
    expect(parseAccesslogEntry(log({ reqStart: '20240501120000.000001Z', reqType: 'delete', reqDN: 'uid=a,ou=people,dc=x', reqEntryUUID: 'AB-CD' }))).toEqual({
      reqStart: '20240501120000.000001Z',
      type: 'delete',
      dn: 'uid=a,ou=people,dc=x',
      entryUUID: 'ab-cd',
    });
    expect(parseAccesslogEntry(log({ reqStart: '1', reqType: 'modrdn', reqDN: 'uid=a,ou=people,dc=x', reqNewRDN: 'uid=b' }))?.newDn).toBe('uid=b,ou=people,dc=x');
    expect(parseAccesslogEntry(log({ reqStart: '1', reqType: 'modrdn', reqDN: 'uid=a,ou=people,dc=x', reqNewRDN: 'uid=a', reqNewSuperior: 'ou=alumni,dc=x' }))?.newDn).toBe(
      'uid=a,ou=alumni,dc=x',
    );
    expect(parseAccesslogEntry(log({ reqStart: '1', reqType: 'extended', reqDN: '' }))).toBeUndefined();
  });

  it('concerns the object types whose base held the entry before or after', () => {
    const config = parseLdapConfig({
      url: 'ldap://x',
      bindDn: 'cn=a,dc=x',
      bindPasswordSecret: 's',
      objectTypes: [
        { name: 'person', baseDns: ['ou=people,dc=x'], objectClasses: ['inetOrgPerson'] },
        { name: 'group', baseDns: ['ou=groups,dc=x'], scope: 'one', objectClasses: ['groupOfNames'] },
      ],
    });
    const names = (record: { dn: string; newDn?: string }) => typesConcerned(record, config.objectTypes).map((t) => t.name);
    expect(names({ dn: 'uid=a,ou=people,dc=x' })).toEqual(['person']);
    expect(names({ dn: 'uid=a,ou=people,dc=x', newDn: 'cn=a,ou=groups,dc=x' })).toEqual(['person', 'group']);
    expect(names({ dn: 'cn=a,ou=sub,ou=groups,dc=x' })).toEqual([]);
    expect(names({ dn: 'uid=a,ou=elsewhere,dc=x' })).toEqual([]);
  });

  describe('AccesslogCursor', () => {
    it('skips records already processed, and records before the lower bound', () => {
      const cursor = new AccesslogCursor('20240501120000.000000Z', new Set(['20240501120001.000001Z']), 5);
      expect(cursor.isNew('20240501115959.000009Z')).toBe(false);
      expect(cursor.isNew('20240501120001.000001Z')).toBe(false);
      expect(cursor.isNew('20240501120001.000002Z')).toBe(true);
    });

    it('moves the lower bound to the newest record minus the overlap, and keeps the records after it by name', () => {
      const cursor = new AccesslogCursor('20240501120000.000000Z', new Set(), 5);
      for (const reqStart of ['20240501120001.000001Z', '20240501120008.000002Z', '20240501120010.000003Z']) cursor.processed(reqStart);
      const mark = cursor.checkpoint();
      expect(mark.from).toBe('20240501120005.000000Z');
      expect([...mark.seen].sort()).toEqual(['20240501120008.000002Z', '20240501120010.000003Z']);
    });

    it('on the final batch, moves the bound to the delta start time minus the overlap when that is later', () => {
      const cursor = new AccesslogCursor('20240501120000.000000Z', new Set(['20240501120001.000001Z']), 5);
      const mark = cursor.checkpoint('20240501130000.000000Z');
      expect(mark.from).toBe('20240501130000.000000Z');
      expect(mark.seen.size).toBe(0);
    });

    it('still takes a record logged out of order after a resume point moved past it, within the same delta', () => {
      const cursor = new AccesslogCursor('20240501120000.000000Z', new Set(), 5);
      cursor.processed('20240501120030.000001Z');
      expect(cursor.checkpoint().from).toBe('20240501120025.000000Z');
      expect(cursor.isNew('20240501120010.000002Z')).toBe(true);
      expect(cursor.isNew('20240501120030.000001Z')).toBe(false);
    });

    it('never moves the bound back', () => {
      const cursor = new AccesslogCursor('20240501120000.000000Z', new Set(), 5);
      expect(cursor.checkpoint('20240501110000.000000Z').from).toBe('20240501120000.000000Z');
    });
  });
});
