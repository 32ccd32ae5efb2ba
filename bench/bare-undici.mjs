// The baseline of the publish benchmarks: the create-post request written with bare undici, no
// library, its answer read with `body.json()`. With an OAuth 2.0 user token it sends a bearer;
// with OAuth 1.0a user keys it signs the request the way a hand-written client does
// (RFC 5849 HMAC-SHA1, `node:crypto`, a fresh random nonce), so each side sends the same request.
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';

export async function bareCreatePost({ apiBaseUrl, agent, accessToken, oauth1, text }) {
  const url = `${apiBaseUrl}/2/tweets`;
  const authorization = oauth1 === undefined ? `Bearer ${accessToken}` : oauth1Authorization({ method: 'POST', url, ...oauth1 });
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = await response.body.json();
  if (response.statusCode !== 201 || !body.data?.id) throw new Error(`bare request failed: ${response.statusCode}`);
}

// RFC 5849 section 3.6: RFC 3986 unreserved characters stay, everything else is %XX.
const encode = (value) => encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);

/** `Authorization: OAuth ...` for a request whose URL has no query and whose body is JSON (not signed). */
function oauth1Authorization({ method, url, consumerKey, consumerSecret, accessToken, accessTokenSecret }) {
  const parameters = {
    oauth_consumer_key: consumerKey,
    oauth_nonce: randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(Math.floor(Date.now() / 1000)),
    oauth_token: accessToken,
    oauth_version: '1.0',
  };
  const names = Object.keys(parameters).sort();
  const normalized = names.map((name) => `${encode(name)}=${encode(parameters[name])}`).join('&');
  const baseString = `${method}&${encode(url)}&${encode(normalized)}`;
  const signature = createHmac('sha1', `${encode(consumerSecret)}&${encode(accessTokenSecret)}`).update(baseString).digest('base64');
  return `OAuth ${[...names.map((name) => `${name}="${encode(parameters[name])}"`), `oauth_signature="${encode(signature)}"`].join(', ')}`;
}
