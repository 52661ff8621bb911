import { spawn } from 'node:child_process';

/**
 * Runs a psql script against `url` in one transaction (`-1`), stopping at the
 * first error; resolves with the wall-clock seconds psql took, its start and
 * connection included (some tens of milliseconds). psql's `\copy` is the
 * PostgreSQL COPY protocol with the data streamed from this host: the
 * fastest way rows get into a table.
 */
export async function runPsql(url: string, script: string, options: { singleTransaction?: boolean } = {}): Promise<number> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(options.singleTransaction === false ? [] : ['-1']), '-d', url, '-f', '-'];
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('psql', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => reject(new Error(`psql could not start (${error.message}); the PostgreSQL limit needs the psql client`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}: ${stderr.trim()}`))));
    child.stdin.end(script);
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A string as an SQL literal. */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
