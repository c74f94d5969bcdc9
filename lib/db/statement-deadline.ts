import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult, MysqlStream, MysqlStreamOptions } from 'kysely';
import type { PoolConnection } from 'mysql2';
import type { RequestScope } from '../request-scope';
import type { ConnectionSource } from './pool';

/**
 * Deadlines on database work, so that a database that stops answering (hung server, failover, a
 * path that drops packets) gives 503 database_unavailable instead of a request that waits until
 * the Lambda is killed. TCP keepalive does not notice a live host whose server is stuck.
 *
 * Two limits, the smaller wins:
 * - every statement has its own deadline (DB_STATEMENT_TIMEOUT_MS);
 * - a request may carry a budget (the deadline of its scope, lib/request-scope.ts, set by the HTTP
 *   handler from the Lambda's remaining time): waiting for a connection and each statement get
 *   only what is left of it, so however many lookups, connects or retries a request makes, it
 *   answers before its timeout. The pool a request's handles use is `pool(scope)`; a connection
 *   it hands out carries that scope until it is released.
 *
 * A statement that outlives its deadline destroys its connection: the pool must never hand out a
 * connection with a reply still owed on it. So does one refused because the budget is spent: the
 * connection may be inside a transaction that can no longer be rolled back by a statement.
 */

/** mysql2's error code for a statement that outlived its `timeout` (mapped to 503 with the others). */
const STATEMENT_TIMEOUT = 'PROTOCOL_SEQUENCE_TIMEOUT';
/** The code given when the request's budget ends while it waits for a connection. */
const CONNECT_TIMEOUT = 'ETIMEDOUT';

/** Milliseconds left of a request's budget; undefined outside one (scripts, migrations). */
export function remainingBudgetMs(scope: RequestScope | undefined): number | undefined {
  const at = scope?.deadlineAt;
  return at === undefined ? undefined : at - Date.now();
}

const statementTimedOut = (): Error =>
  Object.assign(new Error('Query inactivity timeout'), {
    code: STATEMENT_TIMEOUT,
    errorno: STATEMENT_TIMEOUT,
    syscall: 'query',
    fatal: true,
  });

const outOfBudget = (code: string, what: string): Error =>
  Object.assign(new Error(`database budget of the request spent before ${what}`), { code });

/** The deadline of a statement starting now: undefined for none, ≤ 0 when the budget is spent. */
function statementDeadline(statementTimeoutMs: number, scope: RequestScope | undefined): number | undefined {
  const left = remainingBudgetMs(scope);
  const own = statementTimeoutMs > 0 ? statementTimeoutMs : undefined;
  if (left === undefined) return own;
  return own === undefined ? left : Math.min(own, left);
}

type Streamable = { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> };

/** The pools of one source: `pool(scope)` for a request's handles, `pool()` outside requests. */
export interface ScopedPools {
  pool(scope?: RequestScope): MysqlPool;
  end(callback: (error: unknown) => void): void;
}

/** A pooled connection as this module hands it out: it knows the scope that holds it. */
type ScopedConnection = MysqlPoolConnection & { scope: RequestScope | undefined };

/** `source` with deadlines on each statement and on the wait for a connection. */
export function withStatementDeadlines(source: ConnectionSource, statementTimeoutMs: number): ScopedPools {
  const wrapped = new WeakMap<PoolConnection, ScopedConnection>();
  const wrap = (conn: PoolConnection, scope: RequestScope | undefined): ScopedConnection => {
    const existing = wrapped.get(conn);
    if (existing) {
      existing.scope = scope;
      return existing;
    }
    function query(sql: string, values: unknown[]): Streamable;
    function query(sql: string, values: unknown[], callback: (error: unknown, result: MysqlQueryResult) => void): void;
    function query(sql: string, values: unknown[], callback?: (error: unknown, result: MysqlQueryResult) => void) {
      const timeout = statementDeadline(statementTimeoutMs, connection.scope);
      // mysql2's Readable is the async-iterable stream Kysely asks for.
      if (!callback) {
        const streamTimeout = timeout === undefined ? undefined : Math.max(1, timeout);
        return conn.query({ sql, values, timeout: streamTimeout }) as unknown as Streamable;
      }
      if (timeout !== undefined && timeout <= 0) {
        // Not sent, and neither will the ROLLBACK be: the connection may hold an open transaction,
        // which the next BEGIN on it would commit (half an order). Closing it makes the server
        // roll it back, and the pool never hands it out again.
        conn.destroy();
        callback(outOfBudget(STATEMENT_TIMEOUT, 'a statement'), undefined as unknown as MysqlQueryResult);
        return;
      }
      // Positional arguments, and the deadline kept here rather than with mysql2's `timeout`
      // option: mysql2's options-object form of query() cost about a quarter of the client CPU of
      // an order's statements (measured side by side), however few options it carries.
      if (timeout === undefined) {
        conn.query(sql, values, (error, result) => callback(error, result as MysqlQueryResult));
        return;
      }
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // The reply is still owed on this connection: it must never be handed out again.
        conn.destroy();
        callback(statementTimedOut(), undefined as unknown as MysqlQueryResult);
      }, timeout);
      conn.query(sql, values, (error, result) => {
        if (settled) return; // timed out: answered already, the connection destroyed
        settled = true;
        clearTimeout(timer);
        callback(error, result as MysqlQueryResult);
      });
    }
    const connection: ScopedConnection = { query, release: () => conn.release(), scope };
    wrapped.set(conn, connection);
    return connection;
  };
  const none = undefined as unknown as MysqlPoolConnection;
  const end = (callback: (error: unknown) => void) => source.end(callback);
  const poolFor = (scope: RequestScope | undefined): MysqlPool => ({
    getConnection(callback) {
      const left = remainingBudgetMs(scope);
      if (left === undefined) {
        source.getConnection((error, conn) => (error ? callback(error, none) : callback(null, wrap(conn, scope))));
        return;
      }
      if (left <= 0) return callback(outOfBudget(CONNECT_TIMEOUT, 'a connection'), none);
      // The pool's connect timeout is fixed; the request may have less left. A connection that
      // arrives after the request gave up goes straight back to the pool.
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        callback(outOfBudget(CONNECT_TIMEOUT, 'a connection'), none);
      }, left);
      source.getConnection((error, conn) => {
        if (settled) {
          if (!error) conn.release();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (error) callback(error, none);
        else callback(null, wrap(conn, scope));
      });
    },
    end,
  });
  const outside = poolFor(undefined);
  return { pool: (scope) => (scope ? poolFor(scope) : outside), end };
}
