// `npm run demo` from the repository root lands here.
//   Sandbox (default): every network is emulated on 127.0.0.1; nothing leaves the machine.
//   Real networks: LETMEPOST_SANDBOX=0 with a .env next to this file (see README.md).
import { existsSync } from 'node:fs';
import { LetmepostError } from '@letmepost/core';
import { startDemo } from './demo.mjs';

const envFile = new URL('./.env', import.meta.url);
if (existsSync(envFile)) process.loadEnvFile(envFile);
const useSandbox = process.env.LETMEPOST_SANDBOX !== '0';
const port = Number(process.env.PORT ?? 3000);

let demo;
try {
  demo = await startDemo({ port, useSandbox });
} catch (error) {
  // Configuration mistakes are the user's to fix, not bugs: print what to set, without a stack.
  if (LetmepostError.isInstance(error) && error.issues.length > 0) {
    process.stderr.write(
      `\nThe demo cannot start${useSandbox ? '' : ' against the real networks (LETMEPOST_SANDBOX=0)'}; fix these environment variables:\n` +
        error.issues.map((issue) => `  ${issue.field} ${issue.message}\n`).join('') +
        `Set them in examples/demo/.env (see examples/demo/README.md)${useSandbox ? '' : ', or remove LETMEPOST_SANDBOX=0 to use the local sandbox'}.\n`,
    );
    process.exit(1);
  }
  if (LetmepostError.isInstance(error)) {
    process.stderr.write(`\nThe demo cannot start: ${error.message}\n${error.remediation ? `${error.remediation}\n` : ''}`);
    process.exit(1);
  }
  if (error?.code === 'EADDRINUSE') {
    process.stderr.write(`\nPort ${port} is already in use: stop what runs there, or set PORT to another port.\n`);
    process.exit(1);
  }
  throw error;
}

process.stdout.write(`\nletmepost demo running: ${demo.url}/\n`);
if (demo.sandbox) process.stdout.write(`platform sandbox (what each network received): ${demo.sandbox.url}/\n`);
const redirects = demo.letmepost.redirectUris();
if (redirects.length > 0) {
  process.stdout.write(
    demo.sandbox
      ? 'Redirect URIs (already registered with the sandbox apps):\n'
      : "Redirect URIs to register with each platform's app (exactly as shown):\n",
  );
  for (const { displayName, redirectUri } of redirects) process.stdout.write(`  ${displayName}: ${redirectUri}\n`);
}
process.stdout.write('Press Ctrl+C to stop.\n');
// Ctrl+C may arrive twice (from the terminal and forwarded by scripts/toolchain.mjs): close once.
let closing = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    process.stdout.write('Stopping the demo...\n');
    void demo.close().then(() => process.exit(0));
  });
}
