import type {
  CompiledQuery,
  ConnectionProvider,
  DatabaseConnection,
  Kysely,
  MysqlPool,
  MysqlPoolConnection,
  MysqlQueryResult,
  QueryResult,
} from 'kysely';
import type { RequestScope } from '../request-scope';
import { oneQuery, type SqlExecutor, type SqlText } from './compiled';
import type { ScopedPools } from './statement-deadline';
import type { DB } from './types';

/**
 * A transaction on ONE pooled connection whose statements go straight to that connection: the
 * order path's fixed-text statements (lib/db/compiled.ts) skip Kysely's executor, connection
 * provider and transaction layers, which cost more client CPU per order than the statements' own
 * driver work (docs/decisions/0014-order-path-cpu.md). It is the pool Kysely itself uses, with its
 * deadlines (statement-deadline.ts): the same connections, timeouts, destroy-on-timeout and
 * budget; a QueryResult of the same shape as Kysely's MysqlDialect gives.
 */

/** The deadline-wrapped pools (statement-deadline.ts), or a factory made on first use (secrets). */
export type PoolSource = ScopedPools | (() => Promise<ScopedPools>);

/** One pool for a Kysely instance and its sessions: made on first use, ended once. */
export interface SharedPool {
  /** The pool a request's work runs on (its deadline), or work outside requests (no scope). */
  get(scope?: RequestScope): Promise<MysqlPool>;
  /** Ends the pool if it was made and is not ended yet (Kysely may never have used it). */
  end(): Promise<void>;
  /** What Kysely's MysqlDialect is given: the same pool, whose `end` is this one. */
  forKysely(): Promise<MysqlPool>;
}

export function sharedPool(pool: PoolSource): SharedPool {
  let made: Promise<ScopedPools> | undefined;
  let ended: Promise<void> | undefined;
  const make = () => {
    made ??= (typeof pool === 'function' ? pool() : Promise.resolve(pool)).catch((err: unknown) => {
      made = undefined; // e.g. Secrets Manager unreachable: the next request tries again
      throw err;
    });
    return made;
  };
  const end = async () => {
    if (!made) return;
    const real = await made.catch(() => undefined);
    if (!real) return;
    ended ??= new Promise<void>((resolve) => real.end(() => resolve()));
    return ended;
  };
  return {
    get: async (scope) => (await make()).pool(scope),
    end,
    forKysely: async () => {
      const real = (await make()).pool();
      return {
        getConnection: (callback) => real.getConnection(callback),
        end: (callback) => void end().then(() => callback(undefined)),
      };
    },
  };
}

/** The pool behind a Kysely instance made by createDb, and the request scope it is bound to. */
export interface PoolBinding {
  pool: SharedPool;
  scope: RequestScope | undefined;
}

const pools = new WeakMap<Kysely<DB>, PoolBinding>();

/** Called by createDb and bindScope: `db`'s work runs on `pool`, the one Kysely uses, for `scope`. */
export function registerPool(db: Kysely<DB>, pool: SharedPool, scope?: RequestScope): void {
  pools.set(db, { pool, scope });
}

/** The pool behind a Kysely instance made by createDb or bindScope; undefined for any other. */
export function poolOf(db: Kysely<DB>): PoolBinding | undefined {
  return pools.get(db);
}

/** The request scope a database handle is bound to (bindScope), undefined outside requests. */
export function scopeOf(db: Kysely<DB>): RequestScope | undefined {
  return pools.get(db)?.scope;
}

function acquire(pool: MysqlPool): Promise<MysqlPoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, conn) => (error ? reject(error) : resolve(conn)));
  });
}

function send(conn: MysqlPoolConnection, sql: string, parameters: readonly unknown[]): Promise<MysqlQueryResult> {
  return new Promise((resolve, reject) => {
    conn.query(sql, parameters as unknown[], (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** mysql2's answer as Kysely's MysqlDialect shapes it (rows, or the OK packet's counts as bigints). */
function toQueryResult<R>(result: MysqlQueryResult): QueryResult<R> {
  if (Array.isArray(result)) return { rows: result as R[] };
  const ok = result as { insertId?: unknown; affectedRows?: unknown; changedRows?: unknown } | null;
  if (ok && typeof ok === 'object' && 'affectedRows' in ok) {
    const big = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(v as number));
    const insertId = ok.insertId !== undefined && ok.insertId !== null && String(ok.insertId) !== '0';
    return {
      rows: [],
      insertId: insertId ? BigInt(ok.insertId as number) : undefined,
      numAffectedRows: big(ok.affectedRows),
      numChangedRows: big(ok.changedRows),
    };
  }
  return { rows: [] };
}

/**
 * Runs `fn` in a transaction on one connection of `pool`: BEGIN, fn, COMMIT; on any
 * failure ROLLBACK (a failed ROLLBACK means the connection is gone: the original error is the one
 * reported) and rethrow. The connection goes back to the pool either way; mysql2 never hands out
 * one that failed fatally or was destroyed by a deadline.
 */
export async function inSessionTransaction<T>(
  pool: SharedPool,
  fn: (sql: SqlExecutor) => Promise<T>,
  scope?: RequestScope,
): Promise<T> {
  const conn = await acquire(await pool.get(scope));
  try {
    const session = new SessionConnection(conn);
    await send(conn, 'begin', []);
    try {
      const result = await fn(session);
      // Ended already when fn's last statements went out with their COMMIT (commitWith).
      if (!session.committed) {
        await send(conn, 'commit', []);
        session.committed = true;
      }
      return result;
    } catch (err) {
      if (!session.committed) await send(conn, 'rollback', []).catch(() => undefined);
      throw err;
    }
  } finally {
    conn.release();
  }
}

function withCallerStack(err: unknown, here: Error): unknown {
  if (err instanceof Error && typeof err.stack === 'string' && here.stack) {
    err.stack += `\n${here.stack.split('\n').slice(1).join('\n')}`;
  }
  return err;
}

/** Kysely's view of one pooled connection: statements straight to it, results shaped as MysqlDialect's. */
class SessionConnection implements DatabaseConnection, SqlExecutor {
  readonly #conn: MysqlPoolConnection;
  /** True once the transaction has committed (by commitWith, or by inSessionTransaction's COMMIT). */
  committed = false;
  constructor(conn: MysqlPoolConnection) {
    this.#conn = conn;
  }
  async commitWith(statements: readonly SqlText[]): Promise<Array<QueryResult<unknown>>> {
    const results = await this.executeBatch([...statements, { sql: 'commit', parameters: [] }]);
    this.committed = true;
    return results.slice(0, statements.length);
  }
  async executeBatch(statements: readonly SqlText[]): Promise<Array<QueryResult<unknown>>> {
    const batch = oneQuery(statements);
    let results: MysqlQueryResult;
    try {
      results = await send(this.#conn, batch.sql, batch.parameters);
    } catch (err) {
      throw withCallerStack(err, new Error());
    }
    // mysql2 answers an array of results for several statements, the result itself for one.
    const all = statements.length > 1 ? (results as unknown as MysqlQueryResult[]) : [results];
    return all.map((r) => toQueryResult<unknown>(r));
  }
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.executeSql<R>(query.sql, query.parameters);
  }
  async executeSql<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    try {
      return toQueryResult<R>(await send(this.#conn, sql, parameters));
    } catch (err) {
      // The driver's stack ends in its socket handler; the awaiting callers (lib/, functions/) are
      // added, as Kysely's own connection does, so a logged 500 names the code that sent it.
      throw withCallerStack(err, new Error());
    }
  }
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stream = this.#conn.query(query.sql, query.parameters as unknown[]).stream({ objectMode: true });
    for await (const row of stream as AsyncIterable<R>) yield { rows: [row] };
  }
}

/**
 * Kysely's connections for a handle bound to a request (client.ts bindScope): each from the pool
 * for that request's scope, so its statements keep the request's deadline.
 */
export class ScopedConnectionProvider implements ConnectionProvider {
  readonly #pool: SharedPool;
  readonly #scope: RequestScope;
  constructor(pool: SharedPool, scope: RequestScope) {
    this.#pool = pool;
    this.#scope = scope;
  }
  async provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    const conn = await acquire(await this.#pool.get(this.#scope));
    try {
      return await consumer(new SessionConnection(conn));
    } finally {
      conn.release();
    }
  }
}
