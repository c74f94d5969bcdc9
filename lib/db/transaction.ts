import type { Kysely, Transaction } from 'kysely';
import type { SqlExecutor } from './compiled';
import type { RequestScope } from '../request-scope';
import { inSessionTransaction, poolOf, scopeOf } from './session';
import { config } from '../config';
import { BusyError } from '../errors';
import { countRetry } from '../observability/counters';
import { isRetryableLockError } from './errors';
import { remainingBudgetMs } from './statement-deadline';
import type { DB } from './types';

export interface TransactionOptions {
  /** Retries after the first attempt on deadlock (1213) / lock-wait timeout (1205). Default: DB_MAX_RETRIES. */
  maxRetries?: number;
  /** Backoff before retry n (0-based) is uniformly random in [base·2ⁿ, 2·base·2ⁿ) ms. */
  baseDelayMs?: number;
  /**
   * No retry starts unless it could still hit a full lock wait and finish within this many ms of
   * the first attempt, so the Lambda (10 s timeout) answers 503 busy before it is killed.
   */
  budgetMs?: number;
  /** Called before each retry (logging, metrics, tests). */
  onRetry?: (error: unknown, retry: number) => void;
}

const DEFAULT_BASE_DELAY_MS = 10;
const DEFAULT_BUDGET_MS = 8_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` in one transaction and commits; on any failure rolls back and rethrows. Deadlocks and
 * lock-wait timeouts re-run the whole transaction (fn must be safe to re-run: everything it wrote
 * was rolled back) with jittered exponential backoff, then give BusyError (503 busy). Connection
 * errors are not retried here: they propagate and map to 503 database_unavailable.
 *
 * A controlled transaction is used rather than `db.transaction().execute()` so that a failed
 * ROLLBACK (the connection is already gone) cannot hide the error that caused it. The connection
 * goes back to the pool after COMMIT or ROLLBACK either way; mysql2 drops a connection from the
 * pool when it fails fatally (lost, killed, closed), so a broken one is never handed out again.
 */
export function withTransaction<T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>, attempt: number) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  return retrying((attempt) => runOnce(db, (trx) => fn(trx, attempt)), opts, scopeOf(db));
}

/**
 * `withTransaction` for statements that need no query builder (the order path's fixed text,
 * lib/db/compiled.ts): the same retries, rollback and connection rules, on one pooled connection
 * without Kysely's per-statement layers (lib/db/session.ts). A Kysely instance not made by
 * createDb runs it as a Kysely transaction.
 */
export function withSqlTransaction<T>(
  db: Kysely<DB>,
  fn: (sql: SqlExecutor, attempt: number) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const binding = poolOf(db);
  return retrying(
    (attempt) =>
      binding
        ? inSessionTransaction(binding.pool, (sql) => fn(sql, attempt), binding.scope)
        : runOnce(db, (trx) => fn(trx, attempt)),
    opts,
    binding?.scope,
  );
}

/**
 * Runs attempt 0, 1, … until one succeeds, retrying deadlocks and lock-wait timeouts only, within
 * the budget of the request `scope` (that of the handle the transaction runs on), whose retries it counts.
 */
async function retrying<T>(
  run: (attempt: number) => Promise<T>,
  opts: TransactionOptions,
  scope: RequestScope | undefined,
): Promise<T> {
  const maxRetries = opts.maxRetries ?? config().dbMaxRetries;
  const baseDelayMs = opts.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const budgetMs = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const lockWaitMs = config().dbLockWaitTimeoutS * 1000;
  const started = Date.now();

  for (let attempt = 0; ; attempt++) {
    try {
      return await run(attempt);
    } catch (err) {
      if (!isRetryableLockError(err)) throw err;
      const delay = baseDelayMs * 2 ** attempt * (1 + Math.random());
      // Nor unless the request's database budget (statement-deadline.ts) still holds a full lock wait.
      const left = remainingBudgetMs(scope);
      const outOfTime =
        Date.now() - started + delay + lockWaitMs > budgetMs || (left !== undefined && left < delay + lockWaitMs);
      if (attempt >= maxRetries || outOfTime) throw new BusyError(err);
      countRetry(scope);
      opts.onRetry?.(err, attempt + 1);
      await sleep(delay);
    }
  }
}

async function runOnce<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const trx = await db.startTransaction().execute();
  try {
    const result = await fn(trx);
    await trx.commit().execute();
    return result;
  } catch (err) {
    if (!trx.isCommitted && !trx.isRolledBack) {
      // A rollback that fails means the connection is gone; the original error is the one to report.
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
    }
    throw err;
  }
}
