import { LetmepostError } from '@letmepost/core';
import { decodePercentEscapes, isBlockedAddress, type HttpClient, type SafeFetcher } from '@letmepost/provider-utils';
import { didDocumentSchema, didSchema, resolveHandleResponseSchema, type DidDocument } from './bluesky-api.js';
import { isDid } from './bluesky-credentials.js';

/** DNS TXT lookup, as `node:dns/promises` `resolveTxt` (each record is a list of chunks). */
export type ResolveTxt = (hostname: string) => Promise<string[][]>;

export interface ResolvedIdentity {
  did: string;
  /** Origin of the account's PDS, from its DID document. */
  pdsUrl: string;
}

export interface IdentityResolver {
  /** Handle or DID → DID and PDS. `service` (a PDS or entryway) resolves handles when given. */
  resolveIdentity(options: { identifier: string; service?: string; signal?: AbortSignal }): Promise<ResolvedIdentity>;
  resolveHandle(options: { handle: string; service?: string; signal?: AbortSignal }): Promise<string>;
  resolveDidDocument(options: { did: string; signal?: AbortSignal }): Promise<DidDocument>;
}

export interface IdentityResolverSettings {
  http: HttpClient;
  /** For URLs derived from user input (handle domains, did:web hosts). */
  fetcher: SafeFetcher;
  plcDirectoryUrl: string;
  /** Last resort for handles that neither DNS nor HTTPS resolve (e.g. where DNS TXT is blocked). */
  fallbackServiceUrl: string;
  resolveTxt?: ResolveTxt;
  allowPrivateNetwork: boolean;
  dnsTimeoutMs?: number;
}

const WELL_KNOWN_MAX_BYTES = 2048;
const DID_DOCUMENT_MAX_BYTES = 64 * 1024;

function unresolved(options: { message: string; field?: string; cause?: unknown }): LetmepostError {
  return new LetmepostError({
    code: 'platform_auth_failed',
    platform: 'bluesky',
    message: options.message,
    field: options.field,
    remediation: 'Check the handle (as shown in the Bluesky app, e.g. alice.bsky.social) or pass the DID.',
    cause: options.cause,
  });
}

async function readText(options: { body: AsyncIterable<Uint8Array> }): Promise<string> {
  const pieces: Uint8Array[] = [];
  for await (const piece of options.body) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

/**
 * The PDS named by a DID document: the `#atproto_pds` service of type
 * `AtprotoPersonalDataServer` (https://atproto.com/specs/did). The endpoint comes from whoever
 * controls the DID, so it must be a public https origin unless private networks are allowed.
 */
export function pdsFromDidDocument(options: { document: DidDocument; allowPrivateNetwork: boolean }): string | undefined {
  const { document } = options;
  // An origin in practice; a path prefix is kept so PDSes mounted under a path (the sandbox) work.
  const entry = document.service?.find((service) => {
    const types = Array.isArray(service.type) ? service.type : [service.type];
    return (service.id === '#atproto_pds' || service.id === `${document.id}#atproto_pds`) && types.includes('AtprotoPersonalDataServer');
  });
  if (!entry || typeof entry.serviceEndpoint !== 'string' || !URL.canParse(entry.serviceEndpoint)) return undefined;
  const url = new URL(entry.serviceEndpoint);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (!isAllowedServiceUrl({ url, allowPrivateNetwork: options.allowPrivateNetwork })) return undefined;
  return serviceBaseUrl(url);
}

/** Origin plus any path prefix, without a trailing slash: `${base}/xrpc/<nsid>` is then the method URL. */
export function serviceBaseUrl(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** https only, and no loopback/private address literals, unless private networks are allowed. */
export function isAllowedServiceUrl(options: { url: URL; allowPrivateNetwork: boolean }): boolean {
  const { url, allowPrivateNetwork } = options;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (allowPrivateNetwork) return true;
  if (url.protocol !== 'https:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return false;
  const isAddressLiteral = /^[\d.]+$/.test(host) || host.includes(':');
  return !(isAddressLiteral && isBlockedAddress(host));
}

export function createIdentityResolver(settings: IdentityResolverSettings): IdentityResolver {
  // `node:dns` is reached when a handle is resolved, not on import (an ES module import of it
  // builds its whole namespace, which costs every cold start).
  const resolveTxt = settings.resolveTxt ?? ((hostname: string) => process.getBuiltinModule('node:dns').promises.resolveTxt(hostname));
  const dnsTimeoutMs = settings.dnsTimeoutMs ?? 3000;

  async function fromDns(handle: string): Promise<string | undefined> {
    let records: string[][];
    let timer: NodeJS.Timeout | undefined;
    try {
      records = await Promise.race([
        resolveTxt(`_atproto.${handle}`),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('DNS TXT lookup timed out')), dnsTimeoutMs);
        }),
      ]);
    } catch {
      // NXDOMAIN, no TXT record, timeout: this method simply does not resolve the handle.
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    const dids = new Set(
      records.map((chunks) => chunks.join('')).flatMap((value) => (value.startsWith('did=') ? [value.slice(4).trim()] : [])),
    );
    // Several different DIDs is a misconfiguration the spec says to treat as no answer.
    if (dids.size !== 1) return undefined;
    const [did] = dids;
    return didSchema.safeParse(did).success ? did : undefined;
  }

  async function fromWellKnown(handle: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      const response = await settings.fetcher.fetch({
        url: `https://${handle}/.well-known/atproto-did`,
        maxBytes: WELL_KNOWN_MAX_BYTES,
        signal,
      });
      const did = (await readText({ body: response.body })).split('\n')[0]?.trim() ?? '';
      return didSchema.safeParse(did).success ? did : undefined;
    } catch {
      return undefined;
    }
  }

  async function fromService(handle: string, service: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      const { value } = await settings.http.json({
        method: 'GET',
        url: `${service}/xrpc/com.atproto.identity.resolveHandle`,
        query: { handle },
        schema: resolveHandleResponseSchema(),
        signal,
      });
      return value.did;
    } catch (error) {
      // A 400 "Unable to resolve handle" is an answer; an outage is not, and must surface.
      if (LetmepostError.isInstance(error) && (error.code === 'platform_rejected' || error.code === 'not_found')) return undefined;
      throw error;
    }
  }

  async function resolveHandle(options: { handle: string; service?: string; signal?: AbortSignal }): Promise<string> {
    const { handle, service, signal } = options;
    const did = service
      ? await fromService(handle, service, signal)
      : ((await fromDns(handle)) ??
        (await fromWellKnown(handle, signal)) ??
        (await fromService(handle, settings.fallbackServiceUrl, signal)));
    if (did === undefined) {
      throw unresolved({ message: `The Bluesky handle ${handle} does not resolve to an account.`, field: 'identifier' });
    }
    return did;
  }

  async function resolveDidDocument(options: { did: string; signal?: AbortSignal }): Promise<DidDocument> {
    const { did, signal } = options;
    let document: unknown;
    if (did.startsWith('did:plc:')) {
      try {
        const { value } = await settings.http.json({
          method: 'GET',
          // DIDs are URL-safe by their syntax; plc.directory expects the colons unescaped.
          url: `${settings.plcDirectoryUrl}/${did}`,
          schema: didDocumentSchema(),
          signal,
        });
        document = value;
      } catch (error) {
        if (LetmepostError.isInstance(error) && (error.code === 'not_found' || error.code === 'platform_rejected')) {
          throw unresolved({ message: `The PLC directory has no document for ${did}.`, field: 'identifier', cause: error });
        }
        throw error;
      }
    } else if (did.startsWith('did:web:')) {
      // atproto only supports host-level did:web; a port is percent-encoded (`localhost%3A2583`).
      const host = decodePercentEscapes({ value: did.slice('did:web:'.length) });
      if (host === undefined) {
        throw unresolved({ message: `${did} is not a valid did:web: it has a malformed percent-escape.`, field: 'identifier' });
      }
      if (host.includes('/') || host.includes(':') && !/^[^:]+:\d+$/.test(host)) {
        throw unresolved({ message: `${did} is not a host-level did:web, which atproto requires.`, field: 'identifier' });
      }
      try {
        const response = await settings.fetcher.fetch({
          url: `https://${host}/.well-known/did.json`,
          maxBytes: DID_DOCUMENT_MAX_BYTES,
          signal,
        });
        document = JSON.parse(await readText({ body: response.body }));
      } catch (error) {
        throw unresolved({ message: `The DID document of ${did} could not be fetched.`, field: 'identifier', cause: error });
      }
    } else {
      throw unresolved({ message: `${did.split(':').slice(0, 2).join(':')} DIDs are not supported by atproto.`, field: 'identifier' });
    }
    const parsed = didDocumentSchema().safeParse(document);
    if (!parsed.success || parsed.data.id !== did) {
      throw unresolved({ message: `The DID document of ${did} is malformed or names another DID.`, field: 'identifier' });
    }
    return parsed.data;
  }

  async function resolveIdentity(options: { identifier: string; service?: string; signal?: AbortSignal }): Promise<ResolvedIdentity> {
    const { identifier, service, signal } = options;
    // `service` comes from the caller's credentials: the same SSRF rule as for DID documents.
    if (service !== undefined && !isAllowedServiceUrl({ url: new URL(service), allowPrivateNetwork: settings.allowPrivateNetwork })) {
      throw new LetmepostError({
        code: 'validation_failed',
        platform: 'bluesky',
        message: 'service must be a public https URL (private addresses need allowPrivateNetwork).',
        field: 'service',
      });
    }
    const did = isDid(identifier) ? identifier : await resolveHandle({ handle: identifier, service, signal });
    const document = await resolveDidDocument({ did, signal });
    const pdsUrl = pdsFromDidDocument({ document, allowPrivateNetwork: settings.allowPrivateNetwork });
    if (pdsUrl === undefined) {
      throw unresolved({
        message: `The DID document of ${did} names no usable PDS (an https #atproto_pds service endpoint).`,
        field: 'identifier',
      });
    }
    return { did, pdsUrl };
  }

  return { resolveIdentity, resolveHandle, resolveDidDocument };
}
