import { applyValues, ExportChangeBody, mergeExportChanges } from './export-change';

const add: ExportChangeBody = {
  kind: 'add',
  objectType: 'person',
  anchor: 'E1',
  dn: 'uid=E1,ou=People',
  attributes: { mail: { op: 'replace', values: ['a@example.com'] }, groups: { op: 'replace', values: ['staff', 'it'] } },
};
const update = (attributes: ExportChangeBody['attributes']): ExportChangeBody => ({ kind: 'update', objectType: 'person', anchor: 'E1', dn: 'uid=E1,ou=People', attributes });
const rename = (from: string, to: string): ExportChangeBody => ({ kind: 'rename', objectType: 'person', anchor: 'E1', dn: from, newDn: to });
const del: ExportChangeBody = { kind: 'delete', objectType: 'person', anchor: 'E1', dn: 'uid=E1,ou=People' };

describe('mergeExportChanges', () => {
  it('folds an update into an add that was never sent: the add carries the new values, all as replace', () => {
    const merged = mergeExportChanges(add, update({ mail: { op: 'replace', values: ['b@example.com'] }, groups: { op: 'remove', values: ['it'] }, title: { op: 'add', values: ['Dr'] } }));
    expect(merged).toEqual({
      kind: 'add',
      objectType: 'person',
      anchor: 'E1',
      dn: 'uid=E1,ou=People',
      attributes: { mail: { op: 'replace', values: ['b@example.com'] }, groups: { op: 'replace', values: ['staff'] }, title: { op: 'replace', values: ['Dr'] } },
    });
  });

  it('moves an add to the new DN of a rename, and lets a newer add replace an older one', () => {
    expect(mergeExportChanges(add, rename('uid=E1,ou=People', 'uid=E1,ou=Staff'))).toMatchObject({ kind: 'add', dn: 'uid=E1,ou=Staff', attributes: add.attributes });
    const newer: ExportChangeBody = { kind: 'add', objectType: 'person', dn: 'uid=E1,ou=Other', attributes: { mail: { op: 'replace', values: ['c@example.com'] } } };
    expect(mergeExportChanges(add, newer)).toEqual({ ...newer, anchor: 'E1' });
  });

  it('combines two updates attribute by attribute, and refuses what would need two changes of one attribute', () => {
    expect(mergeExportChanges(update({ member: { op: 'add', values: ['a'] }, mail: { op: 'replace', values: ['x'] } }), update({ member: { op: 'add', values: ['b', 'a'] }, mail: { op: 'add', values: ['y'] } }))).toEqual(
      update({ member: { op: 'add', values: ['a', 'b'] }, mail: { op: 'replace', values: ['x', 'y'] } }),
    );
    expect(mergeExportChanges(update({ member: { op: 'remove', values: ['a'] } }), update({ member: { op: 'replace', values: ['z'] } }))).toEqual(update({ member: { op: 'replace', values: ['z'] } }));
    expect(mergeExportChanges(update({ member: { op: 'add', values: ['a'] } }), update({ member: { op: 'remove', values: ['b'] } }))).toBeUndefined();
    expect(mergeExportChanges(update({ member: { op: 'remove', values: ['a'] } }), update({ member: { op: 'add', values: ['a'] } }))).toBeUndefined();
  });

  it('lets a delete replace whatever was not sent, at the DN the object still has', () => {
    expect(mergeExportChanges(add, del)).toEqual(del);
    expect(mergeExportChanges(update({ mail: { op: 'replace', values: ['x'] } }), { kind: 'delete', objectType: 'person', anchor: 'E1' })).toEqual(del);
    expect(mergeExportChanges(rename('uid=E1,ou=People', 'uid=E1,ou=Staff'), { ...del, dn: 'uid=E1,ou=Staff' })).toEqual(del);
    expect(mergeExportChanges(del, del)).toEqual(del);
  });

  it('chains renames from the first DN to the last', () => {
    expect(mergeExportChanges(rename('uid=E1,ou=A', 'uid=E1,ou=B'), rename('uid=E1,ou=B', 'uid=E1,ou=C'))).toEqual(rename('uid=E1,ou=A', 'uid=E1,ou=C'));
  });

  it('merges nothing that would change the order of effects: the newer change then waits behind the older', () => {
    expect(mergeExportChanges(del, add)).toBeUndefined();
    expect(mergeExportChanges(del, update({}))).toBeUndefined();
    expect(mergeExportChanges(update({}), add)).toBeUndefined();
    expect(mergeExportChanges(update({}), rename('a', 'b'))).toBeUndefined();
    expect(mergeExportChanges(rename('a', 'b'), update({}))).toBeUndefined();
    expect(mergeExportChanges(add, { ...update({}), objectType: 'group' })).toBeUndefined();
  });
});

describe('applyValues', () => {
  it('treats values as a set and keeps types apart', () => {
    expect(applyValues(['a', 1], { op: 'add', values: ['1', 'a', 'b'] })).toEqual(['a', 1, '1', 'b']);
    expect(applyValues(['a', 'b'], { op: 'remove', values: ['a', 'c'] })).toEqual(['b']);
    expect(applyValues(['a'], { op: 'replace', values: ['x', 'x'] })).toEqual(['x']);
  });
});
