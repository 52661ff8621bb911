import 'reflect-metadata';
import { ConfigError, EXIT_CODES } from '@identitymesh/platform';
import { loadDemoConfig } from './config/demo.config';
import { runDemo } from './demo';

/**
 * The `npm start` demo: writes the demo configuration into the engine's
 * database once, then follows the engine's cycles until it is stopped
 * (SIGINT, SIGTERM). The engine does the work; this process only prepares
 * files, writes configuration and reads progress.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadDemoConfig(process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`demo: ${error.message}\n`);
    return EXIT_CODES.config;
  }
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => stop.abort());
  await runDemo(config, { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) }, stop.signal);
  return EXIT_CODES.ok;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT_CODES.failure;
  },
);
