#!/usr/bin/env node
// The published command. A committed launcher rather than `dist/cli.js` itself, so the bin exists
// when pnpm links the workspace before anything is built (no "Failed to create bin" warning); it
// loads the compiled CLI only when run.
await import('../dist/cli.js');
