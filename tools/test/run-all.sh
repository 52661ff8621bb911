#!/usr/bin/env bash
# npm test: start what the tests need, check the code, build the apps, run
# every unit, integration and end-to-end test, and close with one line
# "N passed, N failed". Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
mkdir -p tmp
step_failures=0
step() { # step <name> <command...>
  local name=$1; shift
  echo "=== $name"
  if ! "$@"; then echo "FAILED STEP: $name"; step_failures=$((step_failures + 1)); fi
}

step "services" bash tools/dev-services/services.sh
step "lint (module boundaries)" npx nx run-many -t lint --output-style=static
step "typecheck" npx nx run-many -t typecheck --output-style=static
step "build" npx nx run-many -t build --output-style=static --skip-nx-cache

echo "=== tests"
rm -f tmp/jest-report.json
npx jest --ci --json --outputFile=tmp/jest-report.json "$@"
jest_status=$?
node tools/test/summary.mjs tmp/jest-report.json "$step_failures"
[ "$jest_status" -eq 0 ] && [ "$step_failures" -eq 0 ]
