import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiKeyRepository, AuditRepository, openDatabase, TransactionRunner } from '@identitymesh/persistence';
import { hashApiKeySecret, newApiKey } from '../auth/api-key-secret';
import { isPermission, isRoleName, Permission, permissionsOfRoles } from '../auth/permissions';
import type { AdminApiConfig } from '../config/admin-api.config';
import { MAX_API_KEY_DAYS } from './dto/api-key.dto';

const USAGE = 'usage: node main.js create-api-key <name> [admin|operator|reader|<permission,permission,…>] [days, default 90]';

/** What `create-api-key` was asked for, from its arguments. */
export function parseCreateApiKeyArguments(args: readonly string[]): { name: string; permissions: Permission[]; days: number } {
  const [name, scope = 'admin', days = '90'] = args;
  if (!name || name.trim() === '' || name.length > 128) throw new Error(`${USAGE}\nthe name is required (at most 128 characters)`);
  const permissions = isRoleName(scope) ? permissionsOfRoles([scope]) : scope.split(',').map((p) => p.trim());
  const unknown = permissions.filter((p) => !isPermission(p));
  if (permissions.length === 0 || unknown.length > 0) throw new Error(`${USAGE}\nnot a role or permission: ${unknown.join(', ')}`);
  const count = Number(days);
  if (!Number.isInteger(count) || count < 1 || count > MAX_API_KEY_DAYS) throw new Error(`${USAGE}\ndays must be a whole number from 1 to ${MAX_API_KEY_DAYS}`);
  return { name: name.trim(), permissions: permissions as Permission[], days: count };
}

/**
 * `node main.js create-api-key <name> [role|permissions] [days]`: the first
 * key of an installation (and the way in when no OIDC issuer is set up),
 * made by whoever can run the Admin API on its host and reach its database.
 * Prints the key once; it is stored only as a hash, and the creation is audited.
 */
export async function createApiKeyCommand(config: AdminApiConfig, logger: Logger, args: readonly string[]): Promise<void> {
  const request = parseCreateApiKeyArguments(args);
  const { dataSource } = await openDatabase(config.database, { autoMigrate: config.database.autoMigrate, log: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) } });
  try {
    const { prefix, secret, token } = newApiKey();
    const at = new Date();
    const key = {
      id: randomUUID(),
      name: request.name,
      prefix,
      secretHash: await hashApiKeySecret(secret),
      permissions: request.permissions,
      createdBy: 'main.js create-api-key',
      createdAt: at,
      expiresAt: new Date(at.getTime() + request.days * 24 * 3600_000),
    };
    await new TransactionRunner(dataSource).run(async (tx) => {
      await new ApiKeyRepository(dataSource).insert(tx, key);
      const shown = { id: key.id, name: key.name, prefix, permissions: key.permissions, createdBy: key.createdBy, createdAt: at.toISOString(), expiresAt: key.expiresAt.toISOString() };
      await new AuditRepository(dataSource).record(tx, [
        { actorType: 'system', actor: 'main.js create-api-key', action: 'api-key.create', targetType: 'api-key', targetId: key.id, after: shown, at },
      ]);
    });
    logger.info({ apiKeyId: key.id, prefix, permissions: request.permissions, expiresAt: key.expiresAt.toISOString() }, `API key "${request.name}" created (api-key:${prefix}); it is printed once on the next line`);
    process.stdout.write(`${token}\n`);
  } finally {
    await dataSource.destroy();
  }
}
