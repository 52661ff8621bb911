import { addItem, deleteItem, provisionedAttributes, renameItem, updateItems } from './export-items';

const target = { objectType: 'group', anchor: 'guid-1', dn: 'cn=staff,dc=x' };

describe('export items', () => {
  it('makes one update of the changed attributes', () => {
    expect(
      updateItems(target, [
        { attribute: 'description', op: 'replace', values: ['Staff'] },
        { attribute: 'member', op: 'add', values: ['uid=b,dc=x'] },
      ]),
    ).toEqual([{ kind: 'update', objectType: 'group', anchor: 'guid-1', dn: 'cn=staff,dc=x', attributes: { description: { op: 'replace', values: ['Staff'] }, member: { op: 'add', values: ['uid=b,dc=x'] } } }]);
  });

  it('splits an attribute that gains and loses values into a remove and then an add, each with only the values that change', () => {
    const items = updateItems(target, [
      { attribute: 'member', op: 'add', values: ['uid=new,dc=x'] },
      { attribute: 'member', op: 'remove', values: ['uid=old,dc=x'] },
      { attribute: 'description', op: 'replace', values: ['Staff'] },
    ]);
    expect(items.map((item) => item.attributes)).toEqual([
      { member: { op: 'remove', values: ['uid=old,dc=x'] } },
      { member: { op: 'add', values: ['uid=new,dc=x'] }, description: { op: 'replace', values: ['Staff'] } },
    ]);
    expect(updateItems(target, [])).toEqual([]);
  });

  it('names a provisioned object by its DN only while its anchor is provisional, and keeps secrets out of its staged copy', () => {
    const provisional = { objectType: 'user', anchor: 'provisional:1234', dn: 'uid=jdoe,dc=x' };
    expect(addItem(provisional, { uid: ['jdoe'], mail: [], userPassword: ['Initial-1'] })).toEqual({
      kind: 'add',
      objectType: 'user',
      dn: 'uid=jdoe,dc=x',
      attributes: { uid: { op: 'replace', values: ['jdoe'] }, userPassword: { op: 'replace', values: ['Initial-1'] } },
    });
    expect(provisionedAttributes({ uid: ['jdoe'], mail: [], userPassword: ['Initial-1'] })).toEqual({ uid: ['jdoe'] });
    expect(deleteItem({ ...provisional, anchor: 'E1', dn: null })).toEqual({ kind: 'delete', objectType: 'user', anchor: 'E1' });
    expect(renameItem(target, 'cn=crew,dc=x')).toEqual({ kind: 'rename', objectType: 'group', anchor: 'guid-1', dn: 'cn=staff,dc=x', newDn: 'cn=crew,dc=x' });
  });
});
