const m = process.argv[2];
globalThis.gc(); const a = process.memoryUsage().heapUsed;
if (m) await import(m);
globalThis.gc(); globalThis.gc(); const b = process.memoryUsage();
console.log((m ?? 'none').padEnd(30), 'live heap +', ((b.heapUsed - a)/2**20).toFixed(2), 'MiB; heapTotal', (b.heapTotal/2**20).toFixed(1), 'rss', (b.rss/2**20).toFixed(1));
