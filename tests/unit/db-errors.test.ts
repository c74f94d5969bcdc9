import { describe, expect, it } from 'vitest';
import { isConnectionError, isLockWaitTimeout, isRetryableLockError } from '../../lib/db/errors';

const driverError = (errno: number, code?: string) => Object.assign(new Error(code ?? String(errno)), { errno, code });

describe('driver error classification', () => {
  it('retries deadlocks, lock-wait timeouts and snapshot-isolation conflicts (MariaDB 11.6+ errno 1020)', () => {
    expect(isRetryableLockError(driverError(1213, 'ER_LOCK_DEADLOCK'))).toBe(true);
    expect(isRetryableLockError(driverError(1205, 'ER_LOCK_WAIT_TIMEOUT'))).toBe(true);
    expect(isRetryableLockError(driverError(1020, 'ER_CHECKREAD'))).toBe(true);
  });

  it('does not retry other statement errors', () => {
    expect(isRetryableLockError(driverError(1062, 'ER_DUP_ENTRY'))).toBe(false);
    expect(isRetryableLockError(driverError(3819, 'ER_CHECK_CONSTRAINT_VIOLATED'))).toBe(false);
    expect(isRetryableLockError(new Error('plain'))).toBe(false);
    expect(isLockWaitTimeout(driverError(1020))).toBe(false);
  });

  it('treats a killed session and too many connections as the database being unavailable', () => {
    expect(isConnectionError(driverError(1927))).toBe(true);
    expect(isConnectionError(driverError(1040, 'ER_CON_COUNT_ERROR'))).toBe(true);
    expect(isConnectionError(driverError(1020))).toBe(false);
  });
});
