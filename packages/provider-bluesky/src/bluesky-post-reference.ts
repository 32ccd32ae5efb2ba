import { decodePercentEscapes } from '@letmepost/provider-utils';
import { POST_COLLECTION } from './bluesky-api.js';

/** A post named by its repo (a DID, or a handle still to resolve) and record key. */
export interface PostReference {
  repo: string;
  rkey: string;
}

const RKEY_PATTERN = /^[A-Za-z0-9._:~-]{1,512}$/;
const AUTHORITY_PATTERN = /^(did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]|[a-zA-Z0-9.-]+\.[a-zA-Z][a-zA-Z0-9-]*)$/;

function reference(repo: string | undefined, rkey: string | undefined): PostReference | undefined {
  if (!repo || !rkey || !AUTHORITY_PATTERN.test(repo) || !RKEY_PATTERN.test(rkey) || rkey === '.' || rkey === '..') {
    return undefined;
  }
  return { repo: repo.startsWith('did:') ? repo : repo.toLowerCase(), rkey };
}

/**
 * Reads a post reference from an AT URI (`at://<did>/app.bsky.feed.post/<rkey>`, what publish
 * returns as `postId`) or from the web URL people copy (`https://bsky.app/profile/<handle>/post/<rkey>`).
 */
export function parsePostReference(options: { value: string }): PostReference | undefined {
  const value = options.value.trim();
  const atUri = /^at:\/\/([^/]+)\/([^/]+)\/([^/?#]+)$/.exec(value);
  if (atUri) return atUri[2] === POST_COLLECTION ? reference(atUri[1], atUri[3]) : undefined;
  const webUrl = /^https:\/\/bsky\.app\/profile\/([^/]+)\/post\/([^/?#]+)\/?$/.exec(value);
  if (webUrl) return reference(decodePercentEscapes({ value: webUrl[1] ?? '' }), webUrl[2]);
  return undefined;
}

export function postAtUri(options: { did: string; rkey: string }): string {
  return `at://${options.did}/${POST_COLLECTION}/${options.rkey}`;
}

/** The public web address; prefers the handle (readable) and falls back to the DID. */
export function postWebUrl(options: { handleOrDid: string; rkey: string }): string {
  return `https://bsky.app/profile/${options.handleOrDid}/post/${options.rkey}`;
}

export function rkeyOf(options: { uri: string }): string {
  return options.uri.slice(options.uri.lastIndexOf('/') + 1);
}
