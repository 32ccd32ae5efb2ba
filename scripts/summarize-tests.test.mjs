// Run by `npm test` (test:all) before the packages' suites: the closing line must count a file
// that could not run as failed. The reports below have the shape vitest 4's JSON reporter
// writes for a file that throws while loading and for a file whose beforeAll throws.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countReport, summarize } from './summarize-tests.mjs';

const passingFile = {
  name: '/repo/packages/a/src/ok.test.ts',
  status: 'passed',
  message: '',
  assertionResults: [
    { title: 'one', status: 'passed' },
    { title: 'two', status: 'skipped' },
  ],
};
const throwsWhileLoading = { name: '/repo/packages/a/src/load.test.ts', status: 'failed', message: 'Chromium not found', assertionResults: [] };
const hookFails = {
  name: '/repo/packages/a/src/hook.test.ts',
  status: 'failed',
  message: 'beforeAll: spec missing\n    at stack',
  assertionResults: [
    { title: 'b', status: 'skipped' },
    { title: 'c', status: 'skipped' },
  ],
};
const oneTestFails = {
  name: '/repo/packages/a/src/fails.test.ts',
  status: 'failed',
  message: '',
  assertionResults: [
    { title: 'd', status: 'failed' },
    { title: 'e', status: 'passed' },
  ],
};

test('a file that throws while loading counts as one failure, not a skip', () => {
  const counted = countReport({ report: { success: false, numPendingTests: 0, testResults: [passingFile, throwsWhileLoading] } });
  assert.deepEqual({ passed: counted.passed, failed: counted.failed, skipped: counted.skipped }, { passed: 1, failed: 1, skipped: 1 });
  assert.deepEqual(counted.brokenFiles, [{ name: throwsWhileLoading.name, message: 'Chromium not found' }]);
});

test('the tests a failing beforeAll kept from running count as failed', () => {
  const counted = countReport({ report: { success: false, numPendingTests: 2, testResults: [hookFails] } });
  assert.deepEqual({ passed: counted.passed, failed: counted.failed, skipped: counted.skipped }, { passed: 0, failed: 2, skipped: 0 });
  assert.equal(counted.brokenFiles[0].message, 'beforeAll: spec missing');
});

test('failed tests count once and a file with a failed test is not counted again', () => {
  const counted = countReport({ report: { success: false, testResults: [oneTestFails] } });
  assert.deepEqual({ passed: counted.passed, failed: counted.failed, skipped: counted.skipped, broken: counted.brokenFiles.length }, { passed: 1, failed: 1, skipped: 0, broken: 0 });
});

test('a run that failed before listing any file is a failure', () => {
  assert.equal(countReport({ report: { success: false, testResults: [] } }).failed, 1);
  assert.equal(countReport({ report: { success: true, testResults: [] } }).failed, 0);
});

test('a package whose vitest run wrote no report counts as failed', () => {
  const root = mkdtempSync(join(tmpdir(), 'summarize-'));
  try {
    for (const name of ['written', 'missing']) {
      mkdirSync(join(root, 'packages', name), { recursive: true });
      writeFileSync(join(root, 'packages', name, 'package.json'), JSON.stringify({ scripts: { test: 'vitest run' } }));
    }
    writeFileSync(join(root, 'packages', 'written', '.test-report.json'), JSON.stringify({ success: true, testResults: [passingFile] }));
    const totals = summarize({ root });
    assert.deepEqual({ passed: totals.passed, failed: totals.failed, skipped: totals.skipped }, { passed: 1, failed: 1, skipped: 1 });
    assert.match(totals.lines.join('\n'), /packages\/missing: no test report was written/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
