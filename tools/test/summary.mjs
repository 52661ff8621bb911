// Reads jest's --json report and the outcome of the steps before it, and
// prints the one closing line CI looks for: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, stepFailures = '0'] = process.argv.slice(2);
let passed = 0;
let failed = Number(stepFailures);
let pending = 0;
if (reportPath && existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  pending += report.numPendingTests + (report.numTodoTests ?? 0);
  // A suite that failed to load has no failed tests of its own; count it once.
  failed += report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
  for (const suite of report.testResults) {
    for (const test of suite.assertionResults) {
      if (test.status === 'failed') console.log(`FAILED: ${test.fullName} (${suite.name})`);
    }
    if (suite.status === 'failed' && suite.assertionResults.length === 0) console.log(`FAILED TO RUN: ${suite.name}\n${suite.message}`);
  }
} else {
  failed += 1;
  console.log('FAILED: jest produced no report');
}
console.log(pending > 0 ? `${passed} passed, ${failed} failed, ${pending} skipped` : `${passed} passed, ${failed} failed`);
