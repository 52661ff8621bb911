import { auditEntry, redactSecrets } from './audit-entry';

describe('audit entries', () => {
  it('redact secret-looking values at any depth and keep the rest', () => {
    expect(
      redactSecrets({ url: 'ldap://dc1', bindPasswordSecret: 'ldap/corp/bind', tls: { privateKey: '-----BEGIN', caFile: '/ca.pem' }, list: [{ apiKey: 'k', name: 'n' }], token: null }),
    ).toEqual({ url: 'ldap://dc1', bindPasswordSecret: '[redacted]', tls: { privateKey: '[redacted]', caFile: '/ca.pem' }, list: [{ apiKey: '[redacted]', name: 'n' }], token: null });
  });

  it('name the caller, the action and the target, with dates as text', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const entry = auditEntry({ via: 'oidc', actor: 'jdoe', actorType: 'operator', permissions: new Set() }, 'connector.update', { type: 'connector', id: 'c1' }, { before: { at }, after: { config: { password: 'x' } } }, at);
    expect(entry).toEqual({ actorType: 'operator', actor: 'jdoe', action: 'connector.update', targetType: 'connector', targetId: 'c1', runId: null, ruleId: null, before: { at: '2026-01-02T03:04:05.000Z' }, after: { config: { password: '[redacted]' } }, at });
  });
});
