import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createInstagram } from '@letmepost/provider-instagram';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createRestHandler } from './rest-handler.js';
import { authenticateTestKeys } from './test-support/authenticate.js';

const GRAPH = 'https://graph.instagram.com';
const IG_USER_ID = '17841400000000001';
const TOKEN = 'IGAArest-c4n4ry-token';

describe('REST publish to Instagram with per-request credentials', () => {
  it('takes access_token and instagram_account_id snake_case, and names a missing one in snake_case', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const graph = agent.get(GRAPH);
    const reply = (method: string, path: string, body: unknown) =>
      graph.intercept({ method, path: (sent) => sent.split('?')[0] === `/v26.0/${path}` }).reply(200, JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    reply('GET', `${IG_USER_ID}/content_publishing_limit`, { data: [{ quota_usage: 0, config: { quota_total: 50 } }] });
    reply('POST', `${IG_USER_ID}/media`, { id: '17889455560051444' });
    reply('GET', '17889455560051444', { id: '17889455560051444', status_code: 'FINISHED' });
    reply('POST', `${IG_USER_ID}/media_publish`, { id: '17918195224117851' });
    reply('GET', '17918195224117851', { id: '17918195224117851', permalink: 'https://www.instagram.com/p/DAbCdEfGhIj/' });
    const letmepost = createLetmepost({
      providers: [createInstagram({ dispatcher: agent, lookupHost: async () => ['151.101.1.1'], containerWait: { intervalMs: 0, maxWaitMs: 0 } })],
      store: memoryTokenStore(),
      encryptionKey: randomBytes(32).toString('base64'),
      baseUrl: 'http://api.test',
    });
    const handler = createRestHandler({ letmepost, authenticate: authenticateTestKeys });
    const publish = async (credentials: Record<string, string>) => {
      const response = await handler(
        new Request('http://api.test/v1/posts', {
          method: 'POST',
          headers: { authorization: 'Bearer key-a', 'content-type': 'application/json' },
          body: JSON.stringify({
            post: { text: 'Fresh sourdough', media: [{ url: 'https://media.letmepost.dev/sourdough.jpg', mime_type: 'image/jpeg' }] },
            targets: [{ platform: 'instagram', credentials }],
          }),
        }),
      );
      return { status: response.status, json: (await response.json()) as Record<string, any> };
    };

    const published = await publish({ access_token: TOKEN, instagram_account_id: IG_USER_ID });
    expect(published.status).toBe(200);
    expect(published.json.data).toMatchObject([{ platform: 'instagram', status: 'published', post_id: '17918195224117851', url: 'https://www.instagram.com/p/DAbCdEfGhIj/' }]);

    const missing = await publish({ access_token: TOKEN });
    expect(JSON.stringify(missing.json.error)).toContain('credentials.instagram_account_id');
    expect(JSON.stringify(missing.json)).not.toContain(TOKEN);
  });
});
