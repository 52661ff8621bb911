// Lints snippets of code as if they sat at given paths of the workspace and
// prints the module-boundary messages for each, as JSON. Runs as its own
// process because ESLint loads the flat config with a dynamic import.
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

// Rules that guard the layering of the workspace.
const RULES = new Set(['@nx/enforce-module-boundaries', 'no-restricted-imports']);

const root = resolve(import.meta.dirname, '../../..');
const probes = JSON.parse(process.argv[2]);
const eslint = new ESLint({ cwd: root });
const out = [];
for (const { file, code } of probes) {
  const [result] = await eslint.lintText(`${code}\nexport const probe = 1;\n`, { filePath: resolve(root, file) });
  out.push(result.messages.filter((m) => RULES.has(m.ruleId)).map((m) => m.message));
}
if (process.argv[3] === '--workspace') {
  const results = await eslint.lintFiles(['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts', 'tools/*/src/**/*.ts']);
  out.push(results.flatMap((r) => r.messages.filter((m) => RULES.has(m.ruleId)).map((m) => `${r.filePath}:${m.line} ${m.message}`)));
}
process.stdout.write(JSON.stringify(out));
