#!/usr/bin/env node
// secretscli from a checkout (`npm run --silent secretscli -- <command>`); it
// composes most libs, so a change to any of them rebuilds it.
import { runBuiltTool } from '../../build/run-built-tool.mjs';

runBuiltTool({ name: 'secretscli', project: 'secretscli', main: 'dist/tools/secretscli/main.js', sources: ['tools/secretscli/src', 'libs/*/src'] });
