import type { LookupAddress } from 'node:dns';
import type { BlockList, LookupFunction } from 'node:net';

/** `code` of the error a guarded lookup fails a connection with. */
const BLOCKED_ADDRESS_CODE = 'ELETMEPOST_BLOCKED_ADDRESS';

// Two lists: Node's BlockList matches IPv4 addresses against an IPv6 `::ffff:0:0/96` rule (and
// mapped IPv6 against IPv4 rules), so mixing families in one list would block every IPv4. Both
// are built on the first check, and `node:net` / `node:dns` reached then: an ES module import of
// either builds its whole namespace, which costs every cold start.
let blockLists: { ipv4: BlockList; ipv6: BlockList } | undefined;
const isIP = (input: string) => process.getBuiltinModule('node:net').isIP(input);

/** Whether a URL's host (an IPv6 one with or without its brackets) is an IP address, not a name. */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}

/**
 * Whether an IP address is one that user-supplied URLs must not reach: loopback, private,
 * link-local (cloud metadata), CGNAT, multicast, unspecified, reserved/documentation ranges,
 * IPv4-mapped/compatible IPv6, and IPv6 transition forms (NAT64, 6to4) embedding such an IPv4.
 * Anything that does not parse as an IP address is blocked too.
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  blockLists ??= { ipv4: buildIpv4BlockList(), ipv6: buildIpv6BlockList() };
  const { ipv4: ipv4BlockList, ipv6: ipv6BlockList } = blockLists;
  if (family === 4) return ipv4BlockList.check(bare, 'ipv4');
  if (family !== 6) return true;
  const bytes = ipv6Bytes(bare);
  if (!bytes) return true;
  // IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96): refused outright, whatever they embed.
  if (bytes.slice(0, 10).every((byte) => byte === 0)) {
    const marker = (bytes[10]! << 8) | bytes[11]!;
    if (marker === 0xffff || marker === 0) return true;
  }
  if (ipv6BlockList.check(bare, 'ipv6')) return true;
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
  const isNat64 = bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((byte) => byte === 0);
  if (isNat64) return ipv4BlockList.check(bytes.slice(12, 16).join('.'), 'ipv4');
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return ipv4BlockList.check(bytes.slice(2, 6).join('.'), 'ipv4');
  return false;
}

function buildIpv4BlockList(): BlockList {
  const list = new (process.getBuiltinModule('node:net').BlockList)();
  const ipv4: Array<[string, number]> = [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // CGNAT (also Alibaba's metadata 100.100.100.200)
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments (Oracle metadata 192.0.0.192)
    ['192.0.2.0', 24], // documentation
    ['192.88.99.0', 24], // 6to4 relay anycast
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ];
  for (const [network, prefix] of ipv4) list.addSubnet(network, prefix, 'ipv4');
  return list;
}

function buildIpv6BlockList(): BlockList {
  const list = new (process.getBuiltinModule('node:net').BlockList)();
  const ipv6: Array<[string, number]> = [
    ['64:ff9b:1::', 48], // local-use NAT64
    ['100::', 64], // discard-only
    ['2001::', 32], // Teredo (embeds an obfuscated IPv4)
    ['2001:db8::', 32], // documentation
    ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
  ];
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    tail.push(...dotted[1].split('.').map(Number));
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [headText = '', tailText] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const headGroups = parse(headText);
  const tailGroups = tailText === undefined ? [] : parse(tailText);
  const fill = 8 - headGroups.length - tailGroups.length;
  if (fill < 0 || (tailText === undefined && fill !== 0)) return undefined;
  const groups = [...headGroups, ...new Array<number>(fill).fill(0), ...tailGroups];
  const bytes = groups.flatMap((group) => [(group >> 8) & 0xff, group & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 && bytes.every((byte) => Number.isInteger(byte)) ? bytes : undefined;
}

export interface GuardedLookupOptions {
  /** DNS resolution to wrap (tests, split-horizon DNS); default `node:dns` `lookup`. */
  lookup?: LookupFunction;
  /** Names, in the refusal's message, what may not reach the address (`media URLs`). */
  purpose?: string;
}

/**
 * A DNS lookup for an undici pool (`new Agent({ connect: { lookup } })`) that lets a connection
 * reach only addresses passing `isBlockedAddress`. It runs inside every connection's own lookup,
 * redirects and reconnects included, so DNS rebinding cannot slip past an earlier check. For
 * hosts end users choose (media URLs, a Bluesky PDS named in a DID document). A refused
 * connection fails with an error whose `code` is `ELETMEPOST_BLOCKED_ADDRESS` (see
 * `findBlockedAddressError`). Literal IP hosts never reach a lookup: check those with
 * `isBlockedAddress` before connecting.
 */
export function guardedLookup(options: GuardedLookupOptions = {}): LookupFunction {
  const purpose = options.purpose ?? 'letmepost';
  return ((hostname: string, lookupOptions: Parameters<LookupFunction>[1], callback: Parameters<LookupFunction>[2]) => {
    // `dns.lookup` is read per call, not captured: the pool may outlive a change to it.
    const base = (options.lookup ?? process.getBuiltinModule('node:dns').lookup) as LookupFunction;
    base(hostname, lookupOptions, (error, address, family) => {
      if (error) {
        callback(error, address, family);
        return;
      }
      const addresses: LookupAddress[] = Array.isArray(address)
        ? (address as LookupAddress[])
        : [{ address: address as string, family: typeof family === 'number' ? family : isIP(address as string) }];
      const blocked = addresses.find((entry) => isBlockedAddress(entry.address));
      if (blocked || addresses.length === 0) {
        const refusal = Object.assign(
          new Error(`${hostname} resolves to ${blocked ? `${blocked.address}, a private or internal address,` : 'no address,'} which ${purpose} may not reach`),
          { code: BLOCKED_ADDRESS_CODE, hostname },
        ) as NodeJS.ErrnoException;
        callback(refusal, '', 4);
        return;
      }
      callback(null, address, family);
    });
  }) as LookupFunction;
}

/** The refusal, when an error (or one of its causes) is a connection `guardedLookup` refused. */
export function findBlockedAddressError(error: unknown): Error | undefined {
  const found = findInErrorChain(error, (candidate) => candidate.code === BLOCKED_ADDRESS_CODE);
  return found instanceof Error ? found : undefined;
}

/**
 * The first error in a failure's chain that matches: the error, then what it aggregates
 * (happy-eyeballs connects fail with an AggregateError), then its cause; undici wraps connect
 * errors a level or two deep.
 */
export function findInErrorChain(error: unknown, match: (candidate: { code?: unknown }) => boolean, depth = 0): { code?: unknown } | undefined {
  if (depth >= 5 || error === null || typeof error !== 'object') return undefined;
  const candidate = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (match(candidate)) return candidate;
  if (Array.isArray(candidate.errors)) {
    for (const inner of candidate.errors) {
      const found = findInErrorChain(inner, match, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return findInErrorChain(candidate.cause, match, depth + 1);
}
