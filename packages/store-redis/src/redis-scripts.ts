import { createHash } from 'node:crypto';

/**
 * Every operation that reads and then writes runs as one Lua script, which Redis executes
 * atomically: no other command runs between the check and the write, on any connection.
 *
 * Conventions shared by the scripts:
 * - `ARGV[1]` is the current time in epoch ms from the injected clock, or `''` to read the
 *   server's clock (`TIME`). One script call reads the time once, so every comparison in it uses
 *   the same instant.
 * - Expiry is logical: an entry or lease whose `x` (expires-at, epoch ms) is not in the future is
 *   absent, whatever Redis's own key expiry says. `PEXPIRE` is set as well, only to reclaim memory,
 *   `grace` ms after the logical expiry (0 with the server clock, where both agree).
 * - Entries are hashes `{ v: value, n: version, x?: expiresAt }`; leases are hashes
 *   `{ t: token, h: holder, x: expiresAt }`; fencing tokens come from a per-lock `INCR` sequence
 *   that is never deleted and never expires, so tokens only grow (see `next_in_sequence`).
 */
export interface RedisScript {
  name: string;
  lua: string;
  sha: string;
}

const CLOCK = `
local function clock(value)
  if value ~= '' then return tonumber(value) end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/**
 * `INCR` on a sequence that starts at the current time in ms. Sequences never expire and are
 * never deleted, but a Redis that loses data (a crash between AOF fsyncs, a failover to a lagging
 * replica, an eviction policy that evicts keys without a TTL) could lose one. Restarting it at the
 * clock instead of at 1 keeps every new number above the ones issued before, as long as fewer
 * than one was drawn per millisecond on average, which holds by orders of magnitude for leases.
 */
const SEQUENCE = `
local function next_in_sequence(key, now)
  if redis.call('EXISTS', key) == 0 then redis.call('SET', key, string.format('%.0f', now)) end
  return redis.call('INCR', key)
end
`;

function script(name: string, body: string): RedisScript {
  const lua = `${CLOCK}${SEQUENCE}\n${body.trim()}\n`;
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * KEYS: entry, index. ARGV: now, key.
 * Returns `{ value, version, expiresAt | -1 }` or nil.
 */
export const getScript = script(
  'get',
  `
local now = clock(ARGV[1])
local entry = redis.call('HMGET', KEYS[1], 'v', 'n', 'x')
if not entry[2] then return nil end
if entry[3] and tonumber(entry[3]) <= now then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return nil
end
return { entry[1], tonumber(entry[2]), tonumber(entry[3] or -1) }
`,
);

/**
 * KEYS: entry, index[, lease of the fence].
 * ARGV: now, key, value, mode (`any` | `create` | `cas`), expectedVersion, ttlMs (`''` = none),
 * fence token (`''` = none), grace.
 * Returns `{ 1, version, expiresAt | -1 }`, or `{ 0, reason, currentVersion | -1 }` with reason
 * `fence`, `exists` or `version`.
 */
export const setScript = script(
  'set',
  `
local now = clock(ARGV[1])
if ARGV[7] ~= '' then
  local lease = redis.call('HMGET', KEYS[3], 't', 'x')
  if not lease[1] or tonumber(lease[1]) ~= tonumber(ARGV[7]) or tonumber(lease[2]) <= now then
    return { 0, 'fence', -1 }
  end
end
local current = redis.call('HMGET', KEYS[1], 'n', 'x')
local version = tonumber(current[1])
if version and current[2] and tonumber(current[2]) <= now then version = nil end
if ARGV[4] == 'create' and version then return { 0, 'exists', version } end
if ARGV[4] == 'cas' and version ~= tonumber(ARGV[5]) then return { 0, 'version', version or -1 } end
local nextVersion = (version or 0) + 1
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'n', nextVersion)
local expiresAt = -1
if ARGV[6] ~= '' then
  local ttl = tonumber(ARGV[6])
  expiresAt = now + ttl
  redis.call('HSET', KEYS[1], 'x', string.format('%.0f', expiresAt))
  redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[8]))
else
  redis.call('HDEL', KEYS[1], 'x')
  redis.call('PERSIST', KEYS[1])
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return { 1, nextVersion, expiresAt }
`,
);

/**
 * KEYS: entry, index. ARGV: now, key, expectedVersion (`''` = any).
 * Returns `{ 1, version }` when deleted, `{ 0, -1 }` when absent, `{ -1, currentVersion }` on a
 * version mismatch.
 */
export const deleteScript = script(
  'delete',
  `
local now = clock(ARGV[1])
local current = redis.call('HMGET', KEYS[1], 'n', 'x')
local version = tonumber(current[1])
if not version or (current[2] and tonumber(current[2]) <= now) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return { 0, -1 }
end
if ARGV[3] ~= '' and version ~= tonumber(ARGV[3]) then return { -1, version } end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return { 1, version }
`,
);

/**
 * KEYS: index. ARGV: now, entry key prefix, lex min, lex max, limit (0 = all).
 * Walks the index in byte order and returns `key, value, version, expiresAt | -1` per live entry,
 * flattened. Index members whose entry has expired or vanished are removed on the way.
 */
export const listScript = script(
  'list',
  `
local now = clock(ARGV[1])
local min = ARGV[3]
local limit = tonumber(ARGV[5])
local out = {}
local found = 0
while true do
  local keys = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[4], 'LIMIT', 0, 256)
  if #keys == 0 then break end
  for _, key in ipairs(keys) do
    local entryKey = ARGV[2] .. key
    local entry = redis.call('HMGET', entryKey, 'v', 'n', 'x')
    if not entry[2] then
      redis.call('ZREM', KEYS[1], key)
    elseif entry[3] and tonumber(entry[3]) <= now then
      redis.call('DEL', entryKey)
      redis.call('ZREM', KEYS[1], key)
    else
      out[#out + 1] = key
      out[#out + 1] = entry[1]
      out[#out + 1] = tonumber(entry[2])
      out[#out + 1] = tonumber(entry[3] or -1)
      found = found + 1
      if limit > 0 and found >= limit then return out end
    end
  end
  if #keys < 256 then break end
  min = '(' .. keys[#keys]
end
return out
`,
);

/**
 * KEYS: counter (sorted set of events scored by time), event sequence.
 * ARGV: now, windowMs, amount, limit (`''` = none), grace.
 * Returns `{ count, accepted (1 | 0) }`.
 */
export const incrementScript = script(
  'increment',
  `
local now = clock(ARGV[1])
local window = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', KEYS[1])
if amount < 0 then
  local removed = math.min(count, -amount)
  if removed > 0 then redis.call('ZPOPMAX', KEYS[1], removed) end
  return { count - removed, 1 }
end
if ARGV[4] ~= '' and count + amount > tonumber(ARGV[4]) then return { count, 0 } end
for _ = 1, amount do
  -- Zero-padded so that, among events of the same millisecond, the newest sorts last and is
  -- the one ZPOPMAX takes back.
  local member = string.format('%020.0f', next_in_sequence(KEYS[2], now))
  redis.call('ZADD', KEYS[1], now, member)
end
if amount > 0 then redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[5])) end
return { count + amount, 1 }
`,
);

/**
 * KEYS: lease, fencing sequence. ARGV: now, ttlMs, holder, grace.
 * Returns `{ 1, token, expiresAt }` when granted, `{ 0, currentExpiresAt }` when held.
 */
export const acquireScript = script(
  'acquire',
  `
local now = clock(ARGV[1])
local lease = redis.call('HMGET', KEYS[1], 't', 'x')
if lease[1] and tonumber(lease[2]) > now then return { 0, tonumber(lease[2]) } end
local token = next_in_sequence(KEYS[2], now)
local ttl = tonumber(ARGV[2])
local expiresAt = now + ttl
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', token, 'h', ARGV[3], 'x', string.format('%.0f', expiresAt))
redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[4]))
return { 1, token, expiresAt }
`,
);

/**
 * KEYS: lease. ARGV: token.
 * Ends the lease only if it is still the one with this token. Returns 1 when released.
 */
export const releaseScript = script(
  'release',
  `
local token = redis.call('HGET', KEYS[1], 't')
if token and tonumber(token) == tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);
