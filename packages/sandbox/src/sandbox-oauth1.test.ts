import { describe, expect, it } from 'vitest';
import { createOAuth1Verifier, hmacSha1Signature, parseOAuthHeader, percentEncode, signatureBaseString } from './sandbox-oauth1.js';

// X's "Creating a signature" example (developer.x.com, OAuth 1.0a).
const example = {
  url: new URL('https://api.twitter.com/1.1/statuses/update.json?include_entities=true'),
  oauth: new Map([
    ['oauth_consumer_key', 'xvz1evFS4wEEPTGEFPHBog'],
    ['oauth_nonce', 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg'],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', '1318622958'],
    ['oauth_token', '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb'],
    ['oauth_version', '1.0'],
  ]),
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
};

function header(parameters: Map<string, string>): string {
  return `OAuth ${[...parameters].map(([key, value]) => `${percentEncode(key)}="${percentEncode(value)}"`).join(', ')}`;
}

describe('RFC 5849 HMAC-SHA1', () => {
  it('reproduces the signature of X’s documented example, form body included', () => {
    const baseString = signatureBaseString({
      method: 'post',
      url: example.url,
      oauthParameters: example.oauth,
      formParameters: [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']],
    });
    expect(baseString.startsWith('POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key')).toBe(true);
    expect(hmacSha1Signature({ baseString, consumerSecret: example.consumerSecret, tokenSecret: example.tokenSecret })).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it('encodes the characters encodeURIComponent leaves alone', () => {
    expect(percentEncode("!*'()~ é")).toBe('%21%2A%27%28%29~%20%C3%A9');
  });

  it('parses a header and refuses repeated or trailing garbage', () => {
    expect(parseOAuthHeader('OAuth realm="x", oauth_token="a%2Bb", oauth_nonce="n"')).toEqual(new Map([['oauth_token', 'a+b'], ['oauth_nonce', 'n']]));
    expect(parseOAuthHeader('OAuth oauth_token="a", oauth_token="b"')).toBeUndefined();
    expect(parseOAuthHeader('OAuth oauth_token="a" junk')).toBeUndefined();
    expect(parseOAuthHeader('Bearer abc')).toBeUndefined();
  });
});

describe('createOAuth1Verifier', () => {
  const credentials = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ts', userId: '42' };
  const now = 1_700_000_000_000;
  const url = new URL('http://127.0.0.1:4000/twitter/2/tweets?x=1');

  function signed(overrides: Record<string, string> = {}, secrets = { consumerSecret: 'cs', tokenSecret: 'ts' }): string {
    const parameters = new Map([
      ['oauth_consumer_key', 'ck'],
      ['oauth_token', 'at'],
      ['oauth_nonce', 'nonce-1'],
      ['oauth_timestamp', String(now / 1000)],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_version', '1.0'],
      ...Object.entries(overrides),
    ]);
    parameters.set('oauth_signature', hmacSha1Signature({ baseString: signatureBaseString({ method: 'POST', url, oauthParameters: parameters }), ...secrets }));
    return header(parameters);
  }

  it('accepts a good signature once and names why it refuses the others', () => {
    const verify = createOAuth1Verifier({ credentials: () => [credentials], now: () => now });
    const good = signed();
    expect(verify({ method: 'POST', url, authorization: good })).toEqual({ ok: true, credentials });
    expect(verify({ method: 'POST', url, authorization: good })).toEqual({ ok: false, reason: 'nonce_reused' });
    expect(verify({ method: 'POST', url, authorization: signed({ oauth_nonce: 'n2' }, { consumerSecret: 'wrong', tokenSecret: 'ts' }) })).toEqual({ ok: false, reason: 'bad_signature' });
    // The signature covers the method and the query string.
    expect(verify({ method: 'DELETE', url, authorization: signed({ oauth_nonce: 'n3' }) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ method: 'POST', url: new URL('?x=2', url), authorization: signed({ oauth_nonce: 'n4' }) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ method: 'POST', url, authorization: signed({ oauth_nonce: 'n5', oauth_timestamp: String(now / 1000 - 3600) }) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify({ method: 'POST', url, authorization: signed({ oauth_nonce: 'n6', oauth_consumer_key: 'other' }) })).toEqual({ ok: false, reason: 'unknown_consumer' });
    expect(verify({ method: 'POST', url, authorization: signed({ oauth_nonce: 'n7', oauth_token: 'other' }) })).toEqual({ ok: false, reason: 'unknown_token' });
    expect(verify({ method: 'POST', url, authorization: signed({ oauth_nonce: 'n8', oauth_signature_method: 'PLAINTEXT' }) })).toEqual({ ok: false, reason: 'unsupported_method' });
  });
});
