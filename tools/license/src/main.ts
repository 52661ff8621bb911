import { runLicenseCli } from './cli/license-cli';

let code: number;
try {
  code = runLicenseCli(
    process.argv.slice(2),
    { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
    { cwd: process.cwd(), now: () => new Date() },
  );
} catch (error) {
  // The last line of defence for "never a stack trace": one line, and a failing exit.
  process.stderr.write(`license: ${error instanceof Error ? error.message : String(error)}\n`);
  code = 1;
}
process.exitCode = code;
