/** Classification of mysql2 errors: which are worth retrying, which mean the database is gone. */

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
}

const asDriverError = (err: unknown): DriverError | undefined =>
  typeof err === 'object' && err !== null ? (err as DriverError) : undefined;

/**
 * ER_LOCK_DEADLOCK (1213), ER_LOCK_WAIT_TIMEOUT (1205) and ER_CHECKREAD (1020): the whole
 * transaction may be retried. 1020 is what MariaDB 11.6+ (innodb_snapshot_isolation=ON) answers
 * when a row read without a lock changed before the lock-last order locked it.
 */
export function isRetryableLockError(err: unknown): boolean {
  const e = asDriverError(err);
  return e?.errno === 1213 || e?.errno === 1205 || e?.errno === 1020;
}

export function isLockWaitTimeout(err: unknown): boolean {
  return asDriverError(err)?.errno === 1205;
}

/** ER_DUP_ENTRY. */
export function isDuplicateKey(err: unknown): boolean {
  return asDriverError(err)?.errno === 1062;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
]);

/**
 * True when the failure is about reaching the database rather than the statement: refused or
 * lost connections, a killed session (1927 on MariaDB, 4031 on MySQL), a server shutting down,
 * too many connections. These become 503 database_unavailable.
 */
export function isConnectionError(err: unknown): boolean {
  const e = asDriverError(err);
  if (!e) return false;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  if (e.errno === 1927 || e.errno === 4031 || e.errno === 1053 || e.errno === 2013 || e.errno === 2006) return true;
  return e.fatal === true;
}
