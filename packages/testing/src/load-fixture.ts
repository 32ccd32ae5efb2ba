import { readFile } from 'node:fs/promises';

export interface LoadFixtureOptions {
  /** The calling module's `import.meta.url`; fixtures live in `__fixtures__/` next to it. */
  from: string | URL;
  /** File name inside `__fixtures__/`, e.g. `linkedin-token.json`. */
  name: string;
}

/** Reads a captured response from `__fixtures__/` next to the test; `.json` files are parsed. */
export async function loadFixture<T = unknown>(options: LoadFixtureOptions): Promise<T> {
  const text = await loadTextFixture(options);
  return (options.name.endsWith('.json') ? JSON.parse(text) : text) as T;
}

export async function loadTextFixture(options: LoadFixtureOptions): Promise<string> {
  return readFile(fixtureUrl(options), 'utf8');
}

export async function loadBinaryFixture(options: LoadFixtureOptions): Promise<Uint8Array> {
  return new Uint8Array(await readFile(fixtureUrl(options)));
}

function fixtureUrl(options: LoadFixtureOptions): URL {
  if (options.name.includes('..')) throw new Error(`fixture names stay inside __fixtures__: ${options.name}`);
  return new URL(`./__fixtures__/${options.name}`, options.from);
}
