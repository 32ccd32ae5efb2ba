// `npm run demo` from the repository root lands here.
//   Sandbox (default): every network is emulated on 127.0.0.1; nothing leaves the machine.
//   Real networks: LETMEPOST_SANDBOX=0 with a .env next to this file (see README.md).
import { existsSync } from 'node:fs';
import { startDemo } from './demo.mjs';

const envFile = new URL('./.env', import.meta.url);
if (existsSync(envFile)) process.loadEnvFile(envFile);
const useSandbox = process.env.LETMEPOST_SANDBOX !== '0';
const demo = await startDemo({ port: Number(process.env.PORT ?? 3000), useSandbox });
process.stdout.write(`\nletmepost demo running: ${demo.url}/\n`);
if (demo.sandbox) process.stdout.write(`platform sandbox (what each network received): ${demo.sandbox.url}/\n`);
process.stdout.write('Press Ctrl+C to stop.\n');
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void demo.close().then(() => process.exit(0));
  });
}
