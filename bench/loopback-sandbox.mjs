// Runs the platform sandbox in its own process, so the benchmark process measures only the
// client side (its RSS, its CPU). Prints one JSON line with the URL and a seeded access token.
import { startSandbox } from '@letmepost/sandbox';

const sandbox = await startSandbox({ port: 0 });
const accessToken = 'bench-access-token';
sandbox.state.accessTokens.set(accessToken, {
  platform: 'twitter',
  userId: '1500000000000000001',
  scopes: ['tweet.read', 'tweet.write', 'users.read', 'offline.access', 'media.write'],
  expiresAt: Date.now() + 24 * 3600 * 1000,
});
process.stdout.write(`${JSON.stringify({ url: sandbox.url, endpoints: sandbox.endpoints, accessToken })}\n`);
process.on('message', (message) => {
  if (message === 'stop') void sandbox.close().then(() => process.exit(0));
});
