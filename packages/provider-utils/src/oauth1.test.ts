import { describe, expect, test } from 'vitest';
import {
  oauth1AuthorizationHeader,
  oauth1PercentEncode,
  oauth1Signature,
  oauth1SignatureBaseString,
} from './oauth1.js';

describe('RFC 5849', () => {
  test('section 3.4.1.1: the signature base string of the example request', () => {
    // POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b with body `c2&a3=2+q` and the Authorization
    // header of section 3.1 (realm and oauth_signature are excluded from the base string).
    const baseString = oauth1SignatureBaseString({
      method: 'POST',
      url: 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b',
      oauthParameters: {
        realm: 'Example',
        oauth_consumer_key: '9djdj82h48djs9d2',
        oauth_token: 'kkk9d7dh3k39sjv7',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '137131201',
        oauth_nonce: '7d8f3e4a',
        oauth_signature: 'djosJKDKJSD8743243%2Fjdk33klY%3D',
      },
      bodyParameters: [...new URLSearchParams('c2&a3=2+q')],
    });
    expect(baseString).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  test('section 1.2: the signature of the final protected-resource request', () => {
    const signature = oauth1Signature({
      method: 'GET',
      url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
      credentials: {
        consumerKey: 'dpf43f3p2l4k3l03',
        consumerSecret: 'kd94hf93k423kf44',
        token: 'nnch734d00sl2jdk',
        tokenSecret: 'pfkkdhi9sl3r4s00',
      },
      oauthParameters: {
        oauth_consumer_key: 'dpf43f3p2l4k3l03',
        oauth_token: 'nnch734d00sl2jdk',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '137131202',
        oauth_nonce: 'chapoH',
      },
    });
    // The RFC prints it percent-encoded in the header: MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D.
    expect(signature).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  test('section 3.4.1.2: scheme and host are lowercased and the default port dropped', () => {
    const base = (url: string) =>
      oauth1SignatureBaseString({ method: 'get', url, oauthParameters: { oauth_nonce: 'n' } });
    expect(base('HTTP://EXAMPLE.COM:80/r%20v/X?id=123')).toBe(
      'GET&http%3A%2F%2Fexample.com%2Fr%2520v%2FX&id%3D123%26oauth_nonce%3Dn',
    );
    expect(base('https://www.example.net:8080/?q=1')).toBe(
      'GET&https%3A%2F%2Fwww.example.net%3A8080%2F&oauth_nonce%3Dn%26q%3D1',
    );
  });

  test('section 3.6: only unreserved characters are left unencoded, hex is uppercase', () => {
    expect(oauth1PercentEncode("Ladies + Gentlemen, a signed OAuth request!*'()~-._")).toBe(
      'Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21%2A%27%28%29~-._',
    );
    expect(oauth1PercentEncode('☃')).toBe('%E2%98%83');
  });
});

describe("X's “Creating a signature” example", () => {
  const credentials = {
    consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
    consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
    token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  };
  // The page now shows api.x.com in the request, but its signature (and base string) were
  // computed for the original host, api.twitter.com; with api.x.com the signature differs.
  const url = 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true';
  const bodyParameters = { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' };

  test('signature', () => {
    expect(
      oauth1Signature({
        method: 'POST',
        url,
        credentials,
        oauthParameters: {
          oauth_consumer_key: credentials.consumerKey,
          oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
          oauth_signature_method: 'HMAC-SHA1',
          oauth_timestamp: '1318622958',
          oauth_token: credentials.token,
          oauth_version: '1.0',
        },
        bodyParameters,
      }),
    ).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  test('authorization header: sorted, percent-encoded, signed', () => {
    const header = oauth1AuthorizationHeader({
      method: 'POST',
      url,
      credentials,
      bodyParameters,
      nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
      timestamp: 1318622958,
    });
    expect(header).toBe(
      'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"',
    );
  });

  test('a request-token call without a token signs with an empty token secret', () => {
    const header = oauth1AuthorizationHeader({
      method: 'POST',
      url: 'https://api.x.com/oauth/request_token',
      credentials: { consumerKey: 'ck', consumerSecret: 'cs' },
      nonce: 'abc',
      timestamp: 1,
      extraOAuthParameters: { oauth_callback: 'https://app.example/cb' },
    });
    expect(header).not.toContain('oauth_token=');
    expect(header).toContain('oauth_callback="https%3A%2F%2Fapp.example%2Fcb"');
    const expected = oauth1Signature({
      method: 'POST',
      url: 'https://api.x.com/oauth/request_token',
      credentials: { consumerKey: 'ck', consumerSecret: 'cs' },
      oauthParameters: {
        oauth_callback: 'https://app.example/cb',
        oauth_consumer_key: 'ck',
        oauth_nonce: 'abc',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '1',
        oauth_version: '1.0',
      },
    });
    expect(header).toContain(`oauth_signature="${oauth1PercentEncode(expected)}"`);
  });

  test('fresh nonces by default', () => {
    const make = () => oauth1AuthorizationHeader({ method: 'GET', url: 'https://api.x.com/2/users/me', credentials });
    const nonce = (header: string) => /oauth_nonce="([^"]+)"/.exec(header)?.[1];
    expect(nonce(make())).toMatch(/^[A-Za-z0-9]{30,}$/);
    expect(nonce(make())).not.toBe(nonce(make()));
  });

  test('nonces cut from the random pool are never repeated, across refills of the pool', () => {
    // The pool holds 128 nonces; 1,000 headers refill it several times.
    const nonces = new Set<string>();
    for (let index = 0; index < 1_000; index += 1) {
      const header = oauth1AuthorizationHeader({ method: 'GET', url: 'https://api.x.com/2/users/me', credentials });
      const nonce = /oauth_nonce="([^"]+)"/.exec(header)?.[1] ?? '';
      expect(nonce).toMatch(/^[0-9a-f]{32}$/);
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(1_000);
  });

  test('values needing no encoding and values needing it sign the same as the RFC encoding says', () => {
    const url = new URL('https://api.x.com/1.1/statuses/update.json?include_entities=true');
    const fromUrl = oauth1SignatureBaseString({ method: 'post', url, oauthParameters: { oauth_nonce: 'n', oauth_token: "a!b*c'(d)" } });
    const fromString = oauth1SignatureBaseString({ method: 'post', url: url.toString(), oauthParameters: { oauth_nonce: 'n', oauth_token: "a!b*c'(d)" } });
    expect(fromUrl).toBe(fromString);
    expect(fromUrl).toBe(
      'POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_nonce%3Dn%26oauth_token%3Da%2521b%252Ac%2527%2528d%2529',
    );
    expect(oauth1PercentEncode('Ladies + Gentlemen')).toBe('Ladies%20%2B%20Gentlemen');
    expect(oauth1PercentEncode('An_encoded-string.~')).toBe('An_encoded-string.~');
  });
});
