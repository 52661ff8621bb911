#!/usr/bin/env node
// The license tool from a checkout (`npm run license -- <command>`). Relative
// paths in its arguments mean the caller's folder, as they would for a copied build.
import { runBuiltTool } from '../../build/run-built-tool.mjs';

runBuiltTool({
  name: 'license',
  project: 'license-tool',
  main: 'dist/tools/license/main.js',
  sources: ['tools/license/src', 'libs/license/src', 'libs/domain/src'],
  fromCallerFolder: true,
});
