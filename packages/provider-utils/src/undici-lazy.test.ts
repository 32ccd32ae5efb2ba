import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// Runs in a fresh process: the test runner itself has undici loaded already.
function undiciLoadedAfter(code: string): boolean {
  const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    const utils = await import(${JSON.stringify(entry)});
    ${code}
    const cache = createRequire(${JSON.stringify(entry)}).cache;
    console.log(Object.keys(cache).some((path) => /[\\\\/]undici[\\\\/]/.test(path)));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim() === 'true';
}

describe('undici is loaded on first use', () => {
  test('importing provider-utils does not load undici', () => {
    expect(undiciLoadedAfter('')).toBe(false);
  });

  test('the first request loads it', () => {
    // Nothing listens on the discard port: the request fails, after undici was needed for it.
    const request = `await utils.createHttpClient({ platform: 'twitter', retry: { maxAttempts: 1 } }).request({ method: 'GET', url: 'http://127.0.0.1:9/' }).catch(() => {});`;
    expect(undiciLoadedAfter(request)).toBe(true);
  });
});

describe('node:crypto is loaded on first use', () => {
  // `process.moduleLoadList` names every built-in module the process loaded.
  function cryptoLoadedAfter(code: string): boolean {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const utils = await import(${JSON.stringify(entry)});
      await import('@letmepost/core');
      ${code}
      console.log(process.moduleLoadList.includes('NativeModule crypto'));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout.trim() === 'true';
  }

  test('importing core and provider-utils does not load it', () => {
    expect(cryptoLoadedAfter('')).toBe(false);
  });

  test('signing a request loads it', () => {
    const sign = `utils.oauth1AuthorizationHeader({ method: 'POST', url: 'https://api.x.com/2/tweets', credentials: { consumerKey: 'k', consumerSecret: 's' } });`;
    expect(cryptoLoadedAfter(sign)).toBe(true);
  });
});

describe('other Node built-ins are reached on first use', () => {
  // An ES module import of a built-in builds its whole namespace, loading everything behind its
  // lazy getters (`node:util` pulls in streams, worker threads and the argument parser; `node:fs`
  // its promises API and readline); together they were about 10 ms of every cold start. These
  // are what core and provider-utils imported before they reached them with
  // `process.getBuiltinModule` where they are used.
  const reachedOnUse = ['net', 'dns', 'module', 'timers/promises', 'stream', 'worker_threads', 'internal/fs/promises', 'internal/util/parse_args/parse_args'];

  test('importing core and provider-utils loads none of them', () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      await import('@letmepost/core');
      await import('@letmepost/core/internal');
      await import(${JSON.stringify(entry)});
      console.log(JSON.stringify(process.moduleLoadList.filter((name) => name.startsWith('NativeModule ')).map((name) => name.slice('NativeModule '.length))));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    if (result.status !== 0) throw new Error(result.stderr);
    const loaded = JSON.parse(result.stdout) as string[];
    expect(reachedOnUse.filter((name) => loaded.includes(name))).toEqual([]);
  });
});

describe('oauth4webapi is imported on the first token request', () => {
  // ES modules leave no trace in `require.cache`; an in-thread resolve hook sees each specifier.
  function oauth4webapiResolvedAfter(code: string): boolean {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { registerHooks } from 'node:module';
      let resolved = false;
      registerHooks({ resolve(specifier, context, nextResolve) { if (specifier === 'oauth4webapi') resolved = true; return nextResolve(specifier, context); } });
      const utils = await import(${JSON.stringify(entry)});
      ${code}
      console.log(resolved);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout.trim() === 'true';
  }

  test('importing provider-utils, or building an authorization URL, does not import it', () => {
    const authorize = `utils.createOAuth2Client({ platform: 'twitter', endpoints: { authorizationEndpoint: 'https://x.com/i/oauth2/authorize', tokenEndpoint: 'https://api.x.com/2/oauth2/token' } })
      .authorizationUrl({ client: { clientId: 'id' }, redirectUri: 'https://app.example/cb', state: 'state-123456', codeChallenge: 'a'.repeat(43), scopes: [] });`;
    expect(oauth4webapiResolvedAfter(authorize)).toBe(false);
  });

  test('a refresh imports it', () => {
    // Nothing listens on the discard port: the refresh fails, after oauth4webapi was needed for it.
    const refresh = `await utils.createOAuth2Client({ platform: 'twitter', endpoints: { authorizationEndpoint: 'http://127.0.0.1:9/authorize', tokenEndpoint: 'http://127.0.0.1:9/token' }, quirks: { clientAuthentication: 'none' } })
      .refresh({ client: { clientId: 'id' }, refreshToken: 'refresh-token' }).catch(() => {});`;
    expect(oauth4webapiResolvedAfter(refresh)).toBe(true);
  });
});
