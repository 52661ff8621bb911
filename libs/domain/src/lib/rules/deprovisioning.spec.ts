import { decideDeprovisioning } from './deprovisioning';
import { AD, adUserSchema, cso, rule, schemas } from './testing/rule-fixtures';

const ad = { connectorId: AD, objectType: 'user', schemas: schemas(adUserSchema) };
const account = (attributes: Record<string, string[]>) => cso(attributes, { connectorId: AD, objectType: 'user', anchor: 'guid-1' });

describe('decideDeprovisioning', () => {
  it('only disconnects when no rule says otherwise', () => {
    expect(decideDeprovisioning(account({}), [], 'out-of-scope')).toEqual({ kind: 'disconnect', reason: 'out-of-scope' });
  });

  it('disconnects or deletes as the rule says', () => {
    const disconnect = rule('deprovisioning', { action: 'disconnect' }, { ...ad, id: 'keep-account' });
    const remove = rule('deprovisioning', { action: 'delete' }, { ...ad, id: 'remove' });
    expect(decideDeprovisioning(account({}), [disconnect], 'out-of-scope')).toEqual({ kind: 'disconnect', ruleId: 'keep-account', reason: 'out-of-scope' });
    expect(decideDeprovisioning(account({}), [remove], 'mesh-object-deleted')).toEqual({ kind: 'delete', ruleId: 'remove', reason: 'mesh-object-deleted' });
  });

  describe('disable', () => {
    const disable = rule(
      'deprovisioning',
      { action: 'disable', attributes: { userAccountControl: 'bitOr(int(userAccountControl), 2)', description: '"Disabled by IdentityMesh"' } },
      { ...ad, id: 'disable' },
    );

    it('sets the disabling attributes, computed from the target object itself', () => {
      expect(decideDeprovisioning(account({ userAccountControl: ['512'] }), [disable], 'out-of-scope')).toEqual({
        kind: 'disable',
        ruleId: 'disable',
        reason: 'out-of-scope',
        disconnect: false,
        changes: [
          { attribute: 'userAccountControl', op: 'replace', values: [514] },
          { attribute: 'description', op: 'replace', values: ['Disabled by IdentityMesh'] },
        ],
      });
    });

    it('writes nothing for an object that is disabled already', () => {
      const decision = decideDeprovisioning(account({ userAccountControl: ['514'], description: ['Disabled by IdentityMesh'] }), [disable], 'out-of-scope');
      expect(decision).toMatchObject({ kind: 'disable', changes: [] });
    });

    it('also disconnects when the mesh object itself is gone', () => {
      expect(decideDeprovisioning(account({ userAccountControl: ['512'] }), [disable], 'mesh-object-deleted')).toMatchObject({ disconnect: true });
    });
  });

  it('applies only the rules of the object’s connector and type', () => {
    const other = rule('deprovisioning', { action: 'delete' }, { ...ad, connectorId: 'ldap-2' });
    expect(decideDeprovisioning(account({}), [other], 'out-of-scope').kind).toBe('disconnect');
  });
});
