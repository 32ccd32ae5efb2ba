import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RETRYABLE_BY_DEFAULT, errorDocUrl } from './error-code.js';

const docsDirectory = fileURLToPath(new URL('../../../docs/errors/', import.meta.url));

describe('docs/errors', () => {
  it('lives where the docUrl of every error points', () => {
    expect(existsSync(docsDirectory)).toBe(true);
    for (const code of ERROR_CODES) {
      expect(errorDocUrl(code).endsWith(`/docs/errors/${code}.md`)).toBe(true);
    }
  });

  it.each(ERROR_CODES)('has a page for %s with meaning, causes, remedy and the right retryability', (code) => {
    const path = `${docsDirectory}${code}.md`;
    expect(existsSync(path), `docs/errors/${code}.md is missing`).toBe(true);
    const page = readFileSync(path, 'utf8');
    expect(page.startsWith(`# \`${code}\`\n`)).toBe(true);
    for (const heading of ['## What it means', '## Typical causes', '## What to do']) expect(page).toContain(heading);
    expect(page).toContain(`\`error.retryable\` defaults to \`${RETRYABLE_BY_DEFAULT.has(code)}\``);
  });

  it('indexes every code in README.md', () => {
    const index = readFileSync(`${docsDirectory}README.md`, 'utf8');
    for (const code of ERROR_CODES) expect(index).toContain(`[\`${code}\`](${code}.md)`);
  });

  it('lists every page in README.md, so none is orphaned or stale', () => {
    const index = readFileSync(`${docsDirectory}README.md`, 'utf8');
    const unlisted = readdirSync(docsDirectory)
      .filter((name) => name.endsWith('.md') && name !== 'README.md')
      .map((name) => name.slice(0, -'.md'.length))
      // Pages for codes outside ERROR_CODES (the REST handler's own, such as `internal_error`)
      // are fine as long as the index says what they are.
      .filter((code) => !index.includes(`[\`${code}\`](${code}.md)`));
    expect(unlisted).toEqual([]);
  });
});
