import { LetmepostError } from '@letmepost/core';
import { storeUnreachableError } from '@letmepost/core/internal';

/**
 * Maps what `pg` throws to a `LetmepostError`, from structured fields only: the SQLSTATE `code`
 * of a server error, or the errno `code` of a socket error. Messages are written here rather
 * than copied from the driver, because a server message can quote the values of a failed row.
 */
export function toStoreError(error: unknown, { knownSecrets }: { knownSecrets: readonly string[] }): LetmepostError {
  if (LetmepostError.isInstance(error)) return error;

  const sqlState = serverErrorCode(error);
  if (sqlState !== undefined) {
    const sqlClass = sqlState.slice(0, 2);
    if (sqlState === '40001' || sqlState === '40P01') {
      return new LetmepostError({
        code: 'store_conflict',
        message: `PostgreSQL aborted the transaction to resolve a conflict (SQLSTATE ${sqlState}); retry the operation.`,
        cause: error,
        knownSecrets,
      });
    }
    if (sqlClass === '08' || sqlClass === '53' || sqlClass === '58' || sqlState === '57P01' || sqlState === '57P02' || sqlState === '57P03' || sqlState === '57014') {
      return new LetmepostError({
        code: 'store_unavailable',
        message: `PostgreSQL is unavailable (SQLSTATE ${sqlState}).`,
        retryable: true,
        cause: error,
        knownSecrets,
      });
    }
    if (sqlClass === '28' || sqlState === '3D000' || sqlState === '42501') {
      return new LetmepostError({
        code: 'store_unavailable',
        message: `PostgreSQL refused the connection or the operation (SQLSTATE ${sqlState}).`,
        retryable: false,
        remediation: 'Check the database name, the role and its privileges on the letmepost schema.',
        cause: error,
        knownSecrets,
      });
    }
    if (sqlState === '42P01' || sqlState === '3F000') {
      return new LetmepostError({
        code: 'store_unavailable',
        message: `The letmepost tables are missing (SQLSTATE ${sqlState}).`,
        retryable: false,
        remediation: 'Run the store migrations (`await store.migrate()`), or leave `migrate` enabled.',
        cause: error,
        knownSecrets,
      });
    }
    return new LetmepostError({
      code: 'store_unavailable',
      message: `PostgreSQL rejected a letmepost query (SQLSTATE ${sqlState}).`,
      retryable: false,
      cause: error,
      knownSecrets,
    });
  }

  // Anything else `pg` throws is about the transport: refused or reset sockets, DNS failures,
  // a pool that timed out waiting for a connection, a connection terminated mid-query.
  return storeUnreachableError({ backend: 'PostgreSQL', cause: error, knownSecrets });
}

/**
 * A server error (`DatabaseError` from pg-protocol) has a five-character SQLSTATE and a severity.
 * Checked by shape, not `instanceof`, because the host's pool may come from another copy of `pg`.
 */
function serverErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string' ? code : undefined;
}
