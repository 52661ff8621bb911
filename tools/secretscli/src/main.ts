import 'reflect-metadata';
import { runSecretsCli } from './cli/secretscli';
import { processValueInput } from './cli/value-input';

void runSecretsCli(
  process.argv.slice(2),
  { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text), input: processValueInput() },
  { env: process.env, cwd: process.cwd() },
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`secretscli: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
