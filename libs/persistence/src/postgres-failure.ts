/**
 * What a failed Postgres call means for the caller:
 * - `unavailable`: the database could not be reached or went away (network, shutdown, too many connections);
 *   nothing is wrong with the request — wait for the database, never count it against the work;
 * - `transient`: the request lost a race (serialization failure, deadlock, lock timeout) or the server ran short
 *   of resources; the same request may succeed at once;
 * - `timeout`: the statement ran past its `statement_timeout` and was cancelled;
 * - `permanent`: the request itself is wrong (constraint violation, bad data, syntax, missing privilege) and
 *   will fail the same way every time.
 */
export type PostgresFailureKind = 'unavailable' | 'transient' | 'timeout' | 'permanent';

/** Socket errors Node reports when a connection cannot be made or is lost. */
const networkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a server that is going away or refusing connections, beside class 08 (connection exception). */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);
const transientStates = new Set(['40001', '40P01', '55P03']);

/** pg and its pool report a lost or impossible connection by message only. */
const unavailableMessages = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error|is not queryable/i,
  /connection is not open|cannot use a pool after calling end/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/** Classifies an error thrown by `pg` or TypeORM (which copies the driver error's `code` onto its own). */
export function classifyPostgresFailure(error: unknown): PostgresFailureKind {
  const code = errorCode(error);
  if (code !== undefined) {
    if (networkErrorCodes.has(code)) return 'unavailable';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      if (code.startsWith('08') || unavailableStates.has(code)) return 'unavailable';
      if (code === '57014') return 'timeout';
      if (transientStates.has(code) || code.startsWith('53') || code.startsWith('XX')) return 'transient';
      return 'permanent';
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  if (unavailableMessages.some((pattern) => pattern.test(message))) return 'unavailable';
  // Nothing says the request is at fault: assume the next attempt may succeed.
  return 'transient';
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, driverError, cause } = error as { code?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  return errorCode(driverError) ?? errorCode(cause);
}
