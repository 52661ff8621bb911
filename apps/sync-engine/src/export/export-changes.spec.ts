import type { ConnectorSpaceObjectView, ExportChangeBody, ExportItemView } from '@identitymesh/persistence';
import { attributeDiff, auditEntry, isSecretAttribute, judgeExports, stateAfter, toConnectorChange } from './export-changes';

const object: ConnectorSpaceObjectView = {
  id: 'cso-1',
  connectorId: 'c-1',
  objectType: 'group',
  anchor: 'G1',
  distinguishedName: 'cn=staff,ou=Groups',
  dnHash: null,
  attributes: { cn: ['staff'], member: ['uid=a,ou=People', 'uid=b,ou=People'], description: ['old'] },
  attributeHash: 'h',
  meshObjectId: null,
  isDisconnector: false,
  pendingImport: 'none',
  pendingExport: 'update',
  lastRunId: null,
  version: 3,
};

function item(change: ExportChangeBody, fields: Partial<ExportItemView> = {}): ExportItemView {
  return {
    id: 'item-1',
    connectorId: 'c-1',
    csObjectId: 'cso-1',
    operation: change.kind,
    change,
    status: 'succeeded',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    runId: null,
    seq: 1,
    lastAttemptAt: null,
    thresholdRunId: null,
    confirmation: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    ...fields,
  };
}

describe('export changes', () => {
  it('hands the connector the item id as the stable export id', () => {
    expect(toConnectorChange(item({ kind: 'delete', objectType: 'group', anchor: 'G1' }, { id: 'stable' }))).toEqual({ id: 'stable', kind: 'delete', objectType: 'group', anchor: 'G1' });
  });

  it('applies an update to the staged values; an attribute emptied is dropped', () => {
    const after = stateAfter(object, { kind: 'update', objectType: 'group', anchor: 'G1', attributes: { member: { op: 'remove', values: ['uid=a,ou=People'] }, description: { op: 'remove', values: ['old'] } } });
    expect(after).toEqual({ anchor: 'G1', dn: 'cn=staff,ou=Groups', attributes: { cn: ['staff'], member: ['uid=b,ou=People'] } });
    expect(stateAfter(object, { kind: 'rename', objectType: 'group', anchor: 'G1', newDn: 'cn=staff,ou=Old' }).dn).toBe('cn=staff,ou=Old');
    expect(stateAfter(object, { kind: 'add', objectType: 'group', dn: 'cn=x', attributes: { cn: { op: 'replace', values: ['x'] } } }, 'assigned').anchor).toBe('assigned');
  });

  it('reports before and after per attribute and never shows a secret', () => {
    const change: ExportChangeBody = { kind: 'update', objectType: 'group', anchor: 'G1', attributes: { description: { op: 'replace', values: ['new'] }, unicodePwd: { op: 'replace', values: ['"S3cret!"'] } } };
    expect(attributeDiff(object, change, stateAfter(object, change))).toEqual({ description: { before: ['old'], after: ['new'] }, unicodePwd: { before: null, after: '[redacted]' } });
    expect(['userPassword', 'client_secret', 'apiKey', 'accessToken', 'unicodePwd'].every(isSecretAttribute)).toBe(true);
    expect(['mail', 'passportNumber', 'description'].some(isSecretAttribute)).toBe(false);
  });

  it('writes one audit entry per export: engine, export.<operation>, before and after', () => {
    const change: ExportChangeBody = { kind: 'delete', objectType: 'group', anchor: 'G1' };
    const entry = auditEntry({ item: item(change), object: { ...object, attributes: { cn: ['staff'], userPassword: ['x'] } }, after: undefined, outcome: 'applied', engineInstanceId: 'engine-1', runId: 'run-1', at: new Date(0) });
    expect(entry).toEqual({
      actorType: 'engine',
      actor: 'engine-1',
      action: 'export.delete',
      targetType: 'connector-space-object',
      targetId: 'cso-1',
      runId: 'run-1',
      correlationId: 'item-1',
      at: new Date(0),
      before: { connectorId: 'c-1', objectType: 'group', anchor: 'G1', dn: 'cn=staff,ou=Groups', attributes: { cn: ['staff'], userPassword: '[redacted]' } },
      after: { connectorId: 'c-1', objectType: 'group', anchor: 'G1', deleted: true, outcome: 'applied' },
    });
  });

  it('confirms what arrived, judges an older export only on what no newer one wrote, and compares DNs normalized', () => {
    const older = item({ kind: 'update', objectType: 'group', anchor: 'G1', attributes: { description: { op: 'replace', values: ['first'] }, cn: { op: 'replace', values: ['staff'] } } }, { id: 'older', seq: 1 });
    const newer = item({ kind: 'update', objectType: 'group', anchor: 'G1', attributes: { description: { op: 'replace', values: ['second'] }, member: { op: 'add', values: ['UID=C, OU=People'] } } }, { id: 'newer', seq: 2, updatedAt: new Date('2026-01-02T00:00:00Z') });
    const read = { distinguishedName: 'cn=staff,ou=Groups', attributes: { cn: ['staff'], description: ['second'], member: ['uid=a,ou=People', 'uid=c,ou=people'] } };
    const verdicts = judgeExports([older, newer], read, new Map([['member', 'dn' as const]]));
    expect(verdicts.map((v) => [v.item.id, v.differences])).toEqual([
      ['newer', []],
      ['older', []],
    ]);

    const missed = judgeExports([newer], { ...read, attributes: { ...read.attributes, member: ['uid=a,ou=People'] } }, new Map([['member', 'dn' as const]]));
    expect(missed[0].differences).toEqual(['member: the export added [UID=C, OU=People], the system does not hold it']);
    const removed = judgeExports([item({ kind: 'update', objectType: 'group', anchor: 'G1', attributes: { member: { op: 'remove', values: ['uid=a,ou=People'] } } })], read, new Map());
    expect(removed[0].differences).toEqual(['member: the export removed [uid=a,ou=People], the system still holds it']);
    const renamed = judgeExports([item({ kind: 'rename', objectType: 'group', anchor: 'G1', dn: 'cn=staff,ou=Groups', newDn: 'CN=Staff, OU=Teams' })], read, new Map());
    expect(renamed[0].differences).toEqual(['DN: the export wrote CN=Staff, OU=Teams, the system holds cn=staff,ou=Groups']);
  });

  it('does not judge secrets, which no system gives back, and takes a number read back as text as the same value', () => {
    const exported = item({ kind: 'update', objectType: 'group', anchor: 'G1', attributes: { userPassword: { op: 'replace', values: ['x'] }, gidNumber: { op: 'replace', values: [5000] } } });
    expect(judgeExports([exported], { distinguishedName: null, attributes: { gidNumber: ['5000'] } }, new Map())[0].differences).toEqual([]);
  });
});
