import { LetmepostError } from '@letmepost/core';
import { storeUnreachableError } from '@letmepost/core/internal';

/** Error-reply prefixes that describe a passing state of the server (loading, failover, busy). */
const TRANSIENT_REPLY_CODES = new Set(['LOADING', 'BUSY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY', 'OOM']);
/** Error-reply prefixes that no retry will fix: the client's credentials or rights are wrong. */
const ACCESS_REPLY_CODES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);

/**
 * Maps what ioredis throws to a `LetmepostError`. A server error reply carries its code as the
 * first word (`NOSCRIPT ...`, `LOADING ...`), the structured part of the RESP error format; the
 * rest of the reply is prose and is not copied into the message.
 */
export function toStoreError(error: unknown, { knownSecrets }: { knownSecrets: readonly string[] }): LetmepostError {
  if (LetmepostError.isInstance(error)) return error;

  const replyCode = redisReplyCode(error);
  if (replyCode !== undefined) {
    if (TRANSIENT_REPLY_CODES.has(replyCode)) {
      return new LetmepostError({
        code: 'store_unavailable',
        message: `Redis cannot serve the request right now (${replyCode}).`,
        retryable: true,
        cause: error,
        knownSecrets,
      });
    }
    if (ACCESS_REPLY_CODES.has(replyCode)) {
      return new LetmepostError({
        code: 'store_unavailable',
        message: `Redis refused the client (${replyCode}).`,
        retryable: false,
        remediation: 'Check the Redis password, ACL user and its permissions on the letmepost keys and scripts.',
        cause: error,
        knownSecrets,
      });
    }
    return new LetmepostError({
      code: 'store_unavailable',
      message: `Redis rejected a letmepost command (${replyCode}).`,
      retryable: false,
      cause: error,
      knownSecrets,
    });
  }

  // Anything else is about the connection: refused or reset sockets, DNS failures, a command
  // that ran out of reconnection attempts, a client that was closed.
  return storeUnreachableError({ backend: 'Redis', cause: error, knownSecrets });
}

/** The code of a server error reply (`ReplyError` from redis-errors), e.g. `NOSCRIPT`. */
export function redisReplyCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name !== 'ReplyError' || typeof message !== 'string') return undefined;
  const code = /^[A-Z][A-Z_-]*(?=\s|$)/.exec(message)?.[0];
  return code ?? 'ERR';
}
