import type { ConnectorSpaceLimits } from '@identitymesh/persistence';
import { PERSON_AND_GROUP } from '../testing/in-memory-connector';
import { dnHash, hashObject, importPlan, prepareImportBatch } from './import-staging';

const LIMITS: ConnectorSpaceLimits = { objectTypeLength: 64, anchorLength: 255, distinguishedNameLength: 1024, attributeNameLength: 128, targetKeyLength: 255, attributesBytes: 200 };
const plan = importPlan(PERSON_AND_GROUP);

describe('prepareImportBatch', () => {
  it('hashes what an object holds, insensitive to the order of attributes and of multiple values', () => {
    expect(hashObject('cn=a', { a: ['1'], b: ['x', 'y'] })).toBe(hashObject('cn=a', { b: ['y', 'x'], a: ['1'] }));
    expect(hashObject('cn=a', { a: ['1'] })).not.toBe(hashObject('cn=b', { a: ['1'] }));
    expect(hashObject(null, { a: ['1'] })).not.toBe(hashObject(null, { a: [1] }));
    expect(hashObject(null, { a: ['1'] })).not.toBe(hashObject(null, { a: ['1'], b: [] }));
  });

  it('extracts references by anchor and by normalized DN', () => {
    const prepared = prepareImportBatch(
      {
        changes: [
          { kind: 'upsert', objectType: 'group', anchor: 'g', attributes: { cn: ['g'], member: ['UID=A, OU=People,DC=x', 'uid=b,ou=people,dc=x', ''] } },
          { kind: 'upsert', objectType: 'person', anchor: 'a', dn: 'uid=a,ou=people,dc=x', attributes: { manager: ['b'] } },
        ],
        errors: [],
      },
      plan,
      LIMITS,
      true,
    );
    expect(prepared.errors).toEqual([]);
    expect(prepared.upserts[0].references).toEqual([
      { attributeName: 'member', targetKey: dnHash('uid=a,ou=people,dc=x') },
      { attributeName: 'member', targetKey: dnHash('uid=b,ou=people,dc=x') },
    ]);
    expect(prepared.upserts[0].attributes).toEqual({ cn: ['g'], member: ['UID=A, OU=People,DC=x', 'uid=b,ou=people,dc=x', ''] });
    expect(prepared.upserts[1]).toMatchObject({ dnHash: dnHash('UID=a,OU=People,DC=x'), references: [{ attributeName: 'manager', targetKey: 'b' }] });
  });

  it('turns an object that does not fit into a per-object error, keeping it from being taken for deleted', () => {
    const prepared = prepareImportBatch(
      {
        changes: [
          { kind: 'upsert', objectType: 'person', anchor: 'big', attributes: { mail: ['x'.repeat(300)] } },
          { kind: 'upsert', objectType: 'person', anchor: '', attributes: {} },
          { kind: 'upsert', objectType: 'person', anchor: 'odd', attributes: { mail: [{ nested: true }] as never } },
          { kind: 'upsert', objectType: 'person', anchor: 'ok', attributes: { mail: ['a@x'] } },
        ],
        errors: [{ objectType: 'person', anchor: 'broken', position: 'line 9', code: 'OBJECT_MALFORMED', message: 'line 9: unclosed quote' }],
      },
      plan,
      LIMITS,
      true,
    );
    expect(prepared.upserts.map((o) => o.anchor)).toEqual(['ok']);
    expect(prepared.errors.map((e) => [e.code, e.anchor, e.message])).toEqual([
      ['OBJECT_MALFORMED', 'broken', 'line 9: unclosed quote'],
      ['OBJECT_REJECTED', 'big', "person 'big': its attributes take 313 bytes; this database keeps at most 200 per object"],
      ['OBJECT_REJECTED', undefined, "person '': it has no anchor"],
      ['OBJECT_MALFORMED', 'odd', "person 'odd': attribute 'mail' must be a list of strings, numbers or booleans"],
    ]);
    expect(prepared.unreadable).toEqual([
      { objectType: 'person', anchor: 'broken' },
      { objectType: 'person', anchor: 'big' },
      { objectType: 'person', anchor: 'odd' },
    ]);
    expect(prepared.read).toBe(5);
  });

  it('keeps the first of a repeated anchor in a snapshot and reports the rest; in a delta the last change wins', () => {
    const changes = [
      { kind: 'upsert' as const, objectType: 'person', anchor: 'a', attributes: { mail: ['first'] } },
      { kind: 'upsert' as const, objectType: 'person', anchor: 'a', attributes: { mail: ['second'] } },
      { kind: 'upsert' as const, objectType: 'person', anchor: 'b', attributes: { mail: ['b'] } },
      { kind: 'delete' as const, objectType: 'person', anchor: 'b' },
    ];
    const snapshot = prepareImportBatch({ changes: changes.slice(0, 3), errors: [] }, plan, LIMITS, true);
    expect(snapshot.upserts.map((o) => [o.anchor, o.attributes['mail']])).toEqual([
      ['a', ['first']],
      ['b', ['b']],
    ]);
    expect(snapshot.errors).toEqual([expect.objectContaining({ code: 'OBJECT_DUPLICATE_ANCHOR', anchor: 'a' })]);

    const delta = prepareImportBatch({ changes, errors: [] }, plan, LIMITS, false);
    expect(delta.upserts.map((o) => [o.anchor, o.attributes['mail']])).toEqual([['a', ['second']]]);
    expect(delta.deletes).toEqual([{ objectType: 'person', anchor: 'b' }]);
    expect(delta.errors).toEqual([]);
  });
});
