// Adds up the JSON reports every package's vitest run wrote and prints one closing line,
// "N passed, N failed" (plus skipped), so a reader of CI output sees the whole count at once.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const folders = ['packages', 'examples'].flatMap((parent) =>
  existsSync(join(root, parent)) ? readdirSync(join(root, parent)).map((name) => join(root, parent, name)) : [],
);
const reports = folders.map((folder) => join(folder, '.test-report.json')).filter((file) => existsSync(file));

if (process.argv[2] === '--clean') {
  for (const file of reports) rmSync(file);
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
if (reports.length === 0 || passed === 0) {
  process.stderr.write('no test report was written: no test ran\n');
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
