#!/usr/bin/env node
// Entry point for `npm test`, `npm run demo` and `npm run bench` on a machine that has only
// Node (>= 20) and npm. Corepack cannot be relied on (its registry signature check fails on
// some machines), so the pinned Node 24 and pnpm 10 are installed from the npm registry into
// .toolchain/ and every later step runs with them first on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '24.21.0';
const PNPM_VERSION = '10.34.9';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolchainDirectory = join(root, '.toolchain');
const nodePackage = `node-${process.platform}-${process.arch}`;
const nodeBinDirectory = join(toolchainDirectory, 'node_modules', nodePackage, 'bin');
const pnpmEntry = join(toolchainDirectory, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const stampFile = join(toolchainDirectory, 'stamp.json');
// Tools such as publint spawn `pnpm` by name, so a real executable must be on PATH.
const shimDirectory = join(toolchainDirectory, 'bin');
const wanted = JSON.stringify({ node: NODE_VERSION, pnpm: PNPM_VERSION, nodePackage });

function run(command, args, options = {}) {
  const { allowFailure = false, ...spawnOptions } = options;
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...spawnOptions });
  if (result.error) throw result.error;
  if (allowFailure) return result.status ?? 1;
  if (result.status !== 0) {
    process.stderr.write(`\n${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n`);
    process.exit(result.status ?? 1);
  }
}

function ensureToolchain() {
  const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
  if (current === wanted && existsSync(join(nodeBinDirectory, 'node')) && existsSync(pnpmEntry) && existsSync(join(shimDirectory, 'pnpm'))) return;
  mkdirSync(toolchainDirectory, { recursive: true });
  writeFileSync(join(toolchainDirectory, 'package.json'), '{ "private": true }\n');
  process.stdout.write(`Installing Node ${NODE_VERSION} and pnpm ${PNPM_VERSION} into .toolchain/ ...\n`);
  run('npm', [
    'install',
    '--prefix', toolchainDirectory,
    '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error',
    `${nodePackage}@${NODE_VERSION}`,
    `pnpm@${PNPM_VERSION}`,
  ]);
  mkdirSync(shimDirectory, { recursive: true });
  const shim = join(shimDirectory, 'pnpm');
  writeFileSync(shim, `#!/bin/sh\nexec "${join(nodeBinDirectory, 'node')}" "${pnpmEntry}" "$@"\n`);
  chmodSync(shim, 0o755);
  writeFileSync(stampFile, wanted);
}

function pnpm(args, extraEnvironment = {}, options = {}) {
  const environment = {
    ...process.env,
    ...extraEnvironment,
    PATH: `${shimDirectory}:${nodeBinDirectory}:${process.env.PATH ?? ''}`,
    npm_config_engine_strict: 'false',
  };
  return run(join(nodeBinDirectory, 'node'), [pnpmEntry, ...args], { env: environment, ...options });
}

/**
 * Runs a long-lived program (the demo server) until it ends or the user presses Ctrl+C. The
 * terminal sends SIGINT to the whole process group; this process forwards it too (in case only
 * it was signalled) and, when the program stops because of it, exits quietly with 0: stopping
 * the demo is not a failure, so nothing (npm included) should report one.
 */
function runUntilInterrupted(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: root, ...options });
    let interrupted = false;
    const forward = (signal) => {
      interrupted = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', (error) => {
      process.stderr.write(`\n${command} could not start: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (interrupted && (code === 0 || code === 130 || signal === 'SIGINT' || signal === 'SIGTERM')) resolve(0);
      else resolve(code ?? 1);
    });
  });
}

const task = process.argv[2] ?? 'test';
ensureToolchain();
pnpm(['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only']);

switch (task) {
  case 'test': {
    const status = pnpm(['run', 'test:all'], {}, { allowFailure: true });
    // The closing "N passed, N failed" line is printed whether or not something failed.
    const summary = run(join(nodeBinDirectory, 'node'), [join(root, 'scripts', 'summarize-tests.mjs')], { allowFailure: true });
    process.exit(status !== 0 ? status : summary);
  }
  case 'demo': {
    pnpm(['turbo', 'run', 'build', '--filter=letmepost-demo...', '--output-logs=errors-only']);
    // Node runs the server directly, not through `pnpm run`: pnpm reports a script ended by
    // Ctrl+C as a failure (ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL ... SIGINT).
    const demoDirectory = join(root, 'examples', 'demo');
    process.exit(await runUntilInterrupted(join(nodeBinDirectory, 'node'), [join(demoDirectory, 'server.mjs')], { cwd: demoDirectory }));
  }
  case 'bench':
    pnpm(['turbo', 'run', 'build', '--filter=letmepost-bench...', '--output-logs=errors-only']);
    pnpm(['--filter', 'letmepost-bench', 'run', 'bench']);
    break;
  case 'install':
    break;
  default:
    process.stderr.write(`unknown task ${task}; use test, demo, bench or install\n`);
    process.exit(2);
}
