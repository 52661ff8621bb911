import type { SecretStore } from '@identitymesh/secrets';

/** A connector credential is short; the same limit as secretscli's. */
export const MAX_SECRET_VALUE_BYTES = 16 * 1024;

export const SECRET_COMMAND_USAGE = [
  'usage: node main.js secret set <reference>      (the value is read from stdin)',
  '       node main.js secret list',
  '       node main.js secret delete <reference>',
].join('\n');

export interface SecretCommandIo {
  out(text: string): void;
  /** The value for `reference`: everything piped to stdin, or one line typed without echo. */
  readValue(reference: string): Promise<string>;
}

export class SecretCommandUsageError extends Error {}

/**
 * `node main.js secret …` on the relay's host: the secrets the connectors'
 * configs refer to (an LDAP bind password) are set here, where the
 * connectors run, and never travel through the hub.
 */
export async function runSecretCommand(args: string[], store: SecretStore, io: SecretCommandIo): Promise<void> {
  const [action, reference, ...rest] = args;
  if (rest.length > 0) throw new SecretCommandUsageError(`too many arguments\n${SECRET_COMMAND_USAGE}`);
  switch (action) {
    case 'set': {
      if (!reference) throw new SecretCommandUsageError(`secret set needs a reference\n${SECRET_COMMAND_USAGE}`);
      const value = stripFinalNewline(await io.readValue(reference));
      if (value.length === 0) throw new SecretCommandUsageError('the value is empty; nothing was stored');
      if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
        throw new SecretCommandUsageError(`the value is longer than ${MAX_SECRET_VALUE_BYTES} bytes; nothing was stored`);
      }
      const saved = await store.set(reference, value);
      io.out(`${saved.version > 1 ? 'rotated' : 'stored'} ${saved.reference} (version ${saved.version}, ${saved.provider} key ${saved.keyId})\n`);
      return;
    }
    case 'list': {
      if (reference) throw new SecretCommandUsageError(`secret list takes no reference\n${SECRET_COMMAND_USAGE}`);
      const secrets = await store.list();
      io.out(secrets.length === 0 ? 'no secrets stored\n' : secrets.map((s) => `${s.reference}\tversion ${s.version}\t${s.provider}\t${s.keyId}\n`).join(''));
      return;
    }
    case 'delete': {
      if (!reference) throw new SecretCommandUsageError(`secret delete needs a reference\n${SECRET_COMMAND_USAGE}`);
      await store.delete(reference);
      io.out(`deleted ${reference}\n`);
      return;
    }
    default:
      throw new SecretCommandUsageError(`unknown secret action "${action ?? ''}"\n${SECRET_COMMAND_USAGE}`);
  }
}

/** A value piped with `echo` or from a file ends with one newline that is not part of it. */
export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/** stdin of this process: piped text, or one line read from the terminal in raw mode so nothing typed is echoed. */
export function stdinValue(stdin: NodeJS.ReadStream = process.stdin, prompts: NodeJS.WritableStream = process.stderr): (reference: string) => Promise<string> {
  return async (reference) => {
    if (!stdin.isTTY) {
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      return Buffer.concat(chunks).toString('utf8');
    }
    return new Promise((resolve, reject) => {
      prompts.write(`Value for ${reference}: `);
      let typed = '';
      stdin.setRawMode(true);
      stdin.resume();
      stdin.setEncoding('utf8');
      const done = (error?: Error) => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        prompts.write('\n');
        if (error) reject(error);
        else resolve(typed);
      };
      const onData = (data: string) => {
        for (const ch of data) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
          if (ch === '\u0003') return done(new SecretCommandUsageError('interrupted; nothing was stored'));
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  };
}
