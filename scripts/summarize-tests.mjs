// Adds up the JSON reports every package's vitest run wrote and prints one closing line,
// "N passed, N failed" (plus skipped), so a reader of CI output sees the whole count at once.
//
// A test file that could not run (it threw while loading, or a beforeAll hook failed) counts as
// failed, never as skipped: vitest reports its tests as "skipped" and no test as failed, which
// read as a green run. So does a package whose test script wrote no report at all.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Counts one package's vitest JSON report. Tests of a file that failed outside any test count
 * as failed (one failure when the file declared none it could list).
 */
export function countReport({ report }) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const brokenFiles = [];
  for (const file of report.testResults ?? []) {
    const assertions = file.assertionResults ?? [];
    const filePassed = assertions.filter((assertion) => assertion.status === 'passed').length;
    const fileFailed = assertions.filter((assertion) => assertion.status === 'failed').length;
    const fileSkipped = assertions.length - filePassed - fileFailed;
    passed += filePassed;
    failed += fileFailed;
    if (file.status === 'failed' && fileFailed === 0) {
      // The file's own error (load or hook) is the failure; the tests it kept from running are not skips.
      failed += Math.max(fileSkipped, 1);
      brokenFiles.push({ name: file.name, message: String(file.message ?? '').split('\n')[0] });
    } else {
      skipped += fileSkipped;
    }
  }
  // A run that failed before listing any file (a broken config) still says so.
  if ((report.testResults ?? []).length === 0 && report.success === false) {
    failed += 1;
    brokenFiles.push({ name: '(test run)', message: 'vitest failed before running any file' });
  }
  return { passed, failed, skipped, brokenFiles };
}

/** Packages whose `test` script runs vitest, each expected to leave a `.test-report.json`. */
function testedFolders({ root }) {
  const folders = ['packages', 'examples'].flatMap((parent) =>
    existsSync(join(root, parent)) ? readdirSync(join(root, parent)).map((name) => join(root, parent, name)) : [],
  );
  return folders.filter((folder) => {
    const manifest = join(folder, 'package.json');
    if (!existsSync(manifest)) return false;
    const test = JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test;
    return typeof test === 'string' && test.includes('vitest');
  });
}

export function summarize({ root }) {
  const totals = { passed: 0, failed: 0, skipped: 0, lines: [], reports: 0 };
  for (const folder of testedFolders({ root })) {
    const file = join(folder, '.test-report.json');
    const name = relative(root, folder);
    if (!existsSync(file)) {
      totals.failed += 1;
      totals.lines.push(`${name}: no test report was written (the test run did not start or crashed)`);
      continue;
    }
    totals.reports += 1;
    const counted = countReport({ report: JSON.parse(readFileSync(file, 'utf8')) });
    totals.passed += counted.passed;
    totals.failed += counted.failed;
    totals.skipped += counted.skipped;
    for (const broken of counted.brokenFiles) {
      totals.lines.push(`${name}: ${relative(folder, broken.name) || broken.name} could not run: ${broken.message}`);
    }
  }
  return totals;
}

function main() {
  const root = new URL('..', import.meta.url).pathname;
  if (process.argv[2] === '--clean') {
    for (const folder of testedFolders({ root })) rmSync(join(folder, '.test-report.json'), { force: true });
    process.exit(0);
  }
  const totals = summarize({ root });
  if (totals.lines.length > 0) process.stdout.write(`\nfailed outside a test:\n${totals.lines.map((line) => `  ${line}`).join('\n')}\n`);
  process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}\n`);
  if (totals.reports === 0 || totals.passed === 0) {
    process.stderr.write('no test report was written: no test ran\n');
    process.exit(1);
  }
  process.exit(totals.failed > 0 ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
