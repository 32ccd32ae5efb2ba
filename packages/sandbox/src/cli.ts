#!/usr/bin/env node
import { startSandbox } from './sandbox-server.js';

// Standalone: `letmepost-sandbox` (PORT, SANDBOX_APPS as JSON) for pointing any host at it.
const port = Number(process.env.PORT ?? 4010);
const apps = process.env.SANDBOX_APPS ? JSON.parse(process.env.SANDBOX_APPS) : [];
const sandbox = await startSandbox({ port, apps });
process.stdout.write(`letmepost sandbox listening on ${sandbox.url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
