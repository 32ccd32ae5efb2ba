// What a first `npm run demo` on a fresh clone prints besides the demo itself: nothing. These
// check the causes of the noise it used to print; the full run was verified in a fresh copy.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function workspacePackages() {
  const directories = ['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(root, parent, entry.name)),
  );
  return [...directories, join(root, 'bench')].filter((directory) => existsSync(join(directory, 'package.json')));
}

describe('first run', () => {
  it('keeps .npmrc to keys npm knows, so `npm run` prints no "Unknown project config" warning', () => {
    const keys = readFileSync(join(root, '.npmrc'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split('=')[0].trim());
    // pnpm-only settings (auto-install-peers...) belong in pnpm-workspace.yaml.
    expect(keys.filter((key) => !['engine-strict'].includes(key))).toEqual([]);
    expect(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')).toMatch(/^autoInstallPeers: true$/m);
  });

  it('points every bin at a committed file, so pnpm can link it before the build', () => {
    const bins = workspacePackages().flatMap((directory) => {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
      const entries = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
      return Object.values(entries).map((target) => ({ directory, target }));
    });
    expect(bins.length).toBeGreaterThan(0);
    for (const { directory, target } of bins) {
      expect(target, `${directory}: a bin under dist/ does not exist on a fresh clone`).not.toMatch(/(^|\/)dist\//);
      expect(existsSync(join(directory, target)), `${directory}: ${target} must exist`).toBe(true);
    }
  });

  it('stops on Ctrl+C with exit code 0 and nothing on stderr, even when the signal arrives twice', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'letmepost-demo-sigint-'));
    try {
      const child = spawn(process.execPath, [fileURLToPath(new URL('../server.mjs', import.meta.url))], {
        cwd,
        env: { PATH: process.env.PATH, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => { stdout += chunk; });
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('Press Ctrl+C to stop.') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stdout).toContain('Press Ctrl+C to stop.');
      // The terminal signals the whole process group and scripts/toolchain.mjs forwards it too.
      child.kill('SIGINT');
      // The second one while the first is being handled (sent together, the kernel merges them).
      while (!stdout.includes('Stopping the demo...') && child.exitCode === null) await new Promise((resolve) => setImmediate(resolve));
      if (child.exitCode === null) child.kill('SIGINT');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).toBe('');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
