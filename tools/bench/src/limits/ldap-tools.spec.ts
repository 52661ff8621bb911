import type { ExportItemView } from '@identitymesh/persistence';
import { exportItemsToLdif } from './ldap-tools';

const item = (change: ExportItemView['change']): ExportItemView =>
  ({ id: 'x', connectorId: 'c', csObjectId: 'o', operation: change.kind, change, status: 'pending', attempts: 0, nextAttemptAt: null, lastError: null, runId: null, seq: 1, lastAttemptAt: null, thresholdRunId: null, confirmation: null, createdAt: new Date(), updatedAt: new Date() }) as ExportItemView;

describe('the LDIF of queued exports', () => {
  it('writes adds with their object classes and modifies per attribute, non-ASCII values in base64', () => {
    const ldif = exportItemsToLdif([
      item({ kind: 'add', objectType: 'user', dn: 'uid=jnunez,ou=people,dc=x', attributes: { uid: { op: 'replace', values: ['jnunez'] }, cn: { op: 'replace', values: ['José Núñez'] } } }),
      item({ kind: 'update', objectType: 'group', dn: 'cn=g,ou=groups,dc=x', anchor: 'a', attributes: { member: { op: 'remove', values: ['uid=a,dc=x'] }, description: { op: 'replace', values: ['x'] } } }),
    ]);
    expect(ldif).toBe(
      [
        'dn: uid=jnunez,ou=people,dc=x',
        'changetype: add',
        'objectClass: inetOrgPerson',
        'uid: jnunez',
        `cn:: ${Buffer.from('José Núñez').toString('base64')}`,
        '',
        'dn: cn=g,ou=groups,dc=x',
        'changetype: modify',
        'delete: member',
        'member: uid=a,dc=x',
        '-',
        'replace: description',
        'description: x',
        '-',
        '',
      ].join('\n'),
    );
  });
});
