import type { MeshAttribute } from '@identitymesh/domain';
import { exportAttributeChanges, isSecretAttribute, meshAttributeChanges, meshAttributeValues, REDACTED } from './sync-report';

const held = (value: MeshAttribute['value'], connectorId: string | null = 'hr'): MeshAttribute => ({ value, connectorId, at: '2026-01-01T00:00:00.000Z' });

describe('sync report values', () => {
  it('reports changed values only, with secrets redacted', () => {
    const changes = meshAttributeChanges(
      { title: held('Engineer'), mail: held('a@x'), userPassword: held('old'), phone: held('1', 'hr') },
      { title: held('Lead'), mail: held('a@x', 'ad'), userPassword: held('new'), phone: held('1', 'hr'), displayName: held('Ann', null) },
    );
    expect(changes).toEqual({
      title: { before: 'Engineer', after: 'Lead' },
      userPassword: { before: REDACTED, after: REDACTED },
      displayName: { before: null, after: 'Ann' },
    });
    expect(meshAttributeValues({ pwd: held('x'), aliases: held(['a', 'b']) })).toEqual({ pwd: REDACTED, aliases: ['a', 'b'] });
    for (const name of ['userPassword', 'unicodePwd', 'clientSecret', 'apiToken', 'privateKey']) expect(isSecretAttribute(name)).toBe(true);
    for (const name of ['displayName', 'mail', 'member']) expect(isSecretAttribute(name)).toBe(false);
  });

  it('shows a large list by count and the values that changed, never whole', () => {
    const before = Array.from({ length: 5_000 }, (_, i) => `m${i}`);
    const after = [...before.slice(1), 'new'];
    expect(meshAttributeChanges({ members: held(before) }, { members: held(after) })).toEqual({
      members: { before: { count: 5_000 }, after: { count: 5_000, added: ['new'], addedCount: 1, removed: ['m0'], removedCount: 1 } },
    });
  });

  it('shows what an export item does against the target object’s values', () => {
    const item = { kind: 'update' as const, objectType: 'user', attributes: { title: { op: 'replace' as const, values: ['Lead'] }, member: { op: 'add' as const, values: ['uid=b'] }, userPassword: { op: 'replace' as const, values: ['secret'] } } };
    expect(exportAttributeChanges(item, { title: ['Engineer'], member: ['uid=a'] })).toEqual({
      title: { before: 'Engineer', after: 'Lead' },
      member: { before: 'uid=a', after: { add: ['uid=b'], count: 1 } },
      userPassword: { before: null, after: REDACTED },
    });
  });
});
