/** Where secretscli reads a value the operator did not put on the command line. */
export interface ValueInput {
  /** True when a person is typing: prompt, hide, confirm. */
  readonly interactive: boolean;
  /** Everything piped in. */
  readAll(): Promise<string>;
  /** One line typed without echo; rejects with PromptInterruptedError on Ctrl+C. */
  prompt(question: string): Promise<string>;
}

export class PromptInterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'PromptInterruptedError';
  }
}

/** stdin of this process: piped text, or a terminal read in raw mode so nothing typed is echoed. */
export function processValueInput(stdin: NodeJS.ReadStream = process.stdin, prompts: NodeJS.WritableStream = process.stderr): ValueInput {
  return {
    interactive: Boolean(stdin.isTTY),
    async readAll() {
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      return Buffer.concat(chunks).toString('utf8');
    },
    prompt(question) {
      return new Promise((resolve, reject) => {
        prompts.write(question);
        let typed = '';
        stdin.setRawMode?.(true);
        stdin.resume();
        stdin.setEncoding('utf8');
        const done = (error?: Error) => {
          stdin.off('data', onData);
          stdin.setRawMode?.(false);
          stdin.pause();
          prompts.write('\n');
          if (error) reject(error);
          else resolve(typed);
        };
        const onData = (data: string) => {
          for (const ch of data) {
            if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
            if (ch === '\u0003') return done(new PromptInterruptedError());
            if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
            else typed += ch;
          }
        };
        stdin.on('data', onData);
      });
    },
  };
}

/** A value piped with `echo` or from a file ends with one newline that is not part of it. */
export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
