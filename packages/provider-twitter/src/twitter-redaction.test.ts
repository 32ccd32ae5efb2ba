import { LetmepostError, type PublishAuth } from '@letmepost/core';
import nock from 'nock';
import { inspect } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { TwitterCredentials } from './twitter-credentials.js';
import { createTwitter } from './twitter-provider.js';

// X's error messages quote the problem's detail, cut at 300 characters. A platform that echoes
// the request's token there must leave no piece of it, wherever the cut falls.

const ACCESS_TOKEN = 'x-access-token-c4n4ry-straddle-91b7';

const auth: PublishAuth<TwitterCredentials> = {
  type: 'account',
  account: { platformAccountId: '1346889436626259968', username: 'letmepost_demo' },
  tokens: { accessToken: ACCESS_TOKEN, tokenType: 'bearer' },
};

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

it.each([270, 280, 287])('a token starting %i characters into the detail (the message quotes "Forbidden — " first) leaves no fragment in the error', async (offset) => {
  const detail = `${'d'.repeat(offset)}${ACCESS_TOKEN} was refused`;
  nock('https://api.x.com')
    .post('/2/tweets')
    .reply(403, { title: 'Forbidden', detail, type: 'about:blank', status: 403 });
  const twitter = createTwitter({ clock: { now: () => Date.UTC(2026, 10, 23) } });
  const error = await twitter.publish({ post: { text: 'hello' }, auth, options: {} }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(LetmepostError.isInstance(error)).toBe(true);
  const surfaces = [(error as LetmepostError).message, JSON.stringify((error as LetmepostError).toJSON()), inspect(error, { depth: 8 })].join('\n');
  expect(surfaces).toContain('d'.repeat(offset - 20));
  for (let start = 0; start + 6 <= ACCESS_TOKEN.length; start += 1) {
    expect(surfaces, `fragment at ${start}`).not.toContain(ACCESS_TOKEN.slice(start, start + 6));
  }
});
