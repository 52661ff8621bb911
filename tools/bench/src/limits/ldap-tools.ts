import { spawn } from 'node:child_process';
import type { ExportItemView } from '@identitymesh/persistence';
import type { BenchSettings } from '../bench-settings';

/**
 * RFC 2849: a value that is not a safe string goes base64 (`attr:: …`). This
 * takes printable ASCII as safe (a little stricter than the RFC, which also
 * allows control characters) and everything else — umlauts, a leading space,
 * colon or `<`, a trailing space — as base64.
 */
function ldifLine(name: string, value: string): string {
  let safe = value.length === 0 || (!value.startsWith(' ') && !value.startsWith(':') && !value.startsWith('<') && !value.endsWith(' '));
  for (let i = 0; safe && i < value.length; i++) {
    const code = value.charCodeAt(i);
    safe = code >= 0x20 && code <= 0x7e;
  }
  return safe ? `${name}: ${value}` : `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

/** The object classes the benchmark directory connector writes, by object type (feed/hr-configuration). */
const OBJECT_CLASSES: Record<string, string[]> = { user: ['inetOrgPerson'], group: ['groupOfNames'] };

/**
 * The LDIF of exactly what the engine's export run sends for these queued
 * items: an add with the object classes and every value, a modify with a
 * replace, add or delete per attribute. The limit runs it through
 * ldapadd/ldapmodify against the same slapd.
 */
export function exportItemsToLdif(items: readonly ExportItemView[]): string {
  const records: string[] = [];
  for (const item of items) {
    const change = item.change;
    if (!change.dn) throw new Error(`export item ${item.id} has no DN`);
    const lines = [ldifLine('dn', change.dn)];
    const attributes = Object.entries(change.attributes ?? {});
    if (change.kind === 'add') {
      lines.push('changetype: add');
      for (const objectClass of OBJECT_CLASSES[change.objectType] ?? []) lines.push(`objectClass: ${objectClass}`);
      for (const [name, { values }] of attributes) for (const value of values) lines.push(ldifLine(name, String(value)));
    } else if (change.kind === 'update') {
      lines.push('changetype: modify');
      for (const [name, { op, values }] of attributes) {
        lines.push(`${op === 'remove' ? 'delete' : op}: ${name}`);
        for (const value of values) lines.push(ldifLine(name, String(value)));
        lines.push('-');
      }
    } else {
      throw new Error(`the benchmark's LDIF covers adds and updates, not ${change.kind}`);
    }
    records.push(lines.join('\n'));
  }
  return `${records.join('\n\n')}\n`;
}

/** Runs an OpenLDAP client tool bound as the test directory's admin; resolves with its wall-clock seconds. */
export async function ldapTool(settings: BenchSettings, tool: 'ldapadd' | 'ldapmodify' | 'ldapdelete', args: string[], input?: string): Promise<number> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tool, ['-x', '-H', settings.ldap.url, '-D', settings.ldap.adminDn, '-w', settings.ldap.adminPassword, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => reject(new Error(`${tool} could not start (${error.message}); install ldap-utils (tools/dev-services/services.sh does)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} exited with ${code}: ${stderr.trim().slice(0, 500)}`))));
    child.stdin.end(input ?? '');
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The benchmark's OU subtree with its people and groups containers, empty. */
export async function createSubtree(settings: BenchSettings, base: string): Promise<void> {
  const ou = (dn: string) => `dn: ${dn}\nobjectClass: organizationalUnit\nou: ${/^ou=([^,]+)/.exec(dn)?.[1]}\n`;
  await ldapTool(settings, 'ldapadd', [], [ou(base), ou(`ou=people,${base}`), ou(`ou=groups,${base}`)].join('\n'));
}

/** Removes the subtree and everything in it, when it exists. */
export async function deleteSubtree(settings: BenchSettings, base: string): Promise<void> {
  try {
    await ldapTool(settings, 'ldapdelete', ['-r', base]);
  } catch (error) {
    // 32 (noSuchObject): nothing to clean up.
    if (!/exited with 32/.test((error as Error).message)) throw error;
  }
}
