import type { CompiledQuery, Kysely, MysqlPool, MysqlPoolConnection, MysqlQueryResult, QueryResult } from 'kysely';
import type { SqlExecutor } from './compiled';
import type { DialectPool } from './pool';
import type { DB } from './types';

/**
 * A transaction on ONE pooled connection whose statements go straight to that connection: the
 * order path's fixed-text statements (lib/db/compiled.ts) skip Kysely's executor, connection
 * provider and transaction layers, which cost more client CPU per order than the statements' own
 * driver work (docs/decisions/0014-order-path-cpu.md). It is the pool Kysely itself uses, with its
 * deadlines (statement-deadline.ts): the same connections, timeouts, destroy-on-timeout and
 * budget; a QueryResult of the same shape as Kysely's MysqlDialect gives.
 */

/** One pool for a Kysely instance and its sessions: made on first use, ended once. */
export interface SharedPool {
  get(): Promise<MysqlPool>;
  /** Ends the pool if it was made and is not ended yet (Kysely may never have used it). */
  end(): Promise<void>;
  /** What Kysely's MysqlDialect is given: the same pool, whose `end` is this one. */
  forKysely(): Promise<MysqlPool>;
}

export function sharedPool(pool: DialectPool): SharedPool {
  let made: Promise<MysqlPool> | undefined;
  let ended: Promise<void> | undefined;
  const get = () => {
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
    get,
    end,
    forKysely: async () => {
      const real = await get();
      return {
        getConnection: (callback) => real.getConnection(callback),
        end: (callback) => void end().then(() => callback(undefined)),
      };
    },
  };
}

const pools = new WeakMap<Kysely<DB>, SharedPool>();

/** Called by createDb: `db`'s sessions run on `pool`, the one Kysely uses. */
export function registerPool(db: Kysely<DB>, pool: SharedPool): void {
  pools.set(db, pool);
}

/** The pool behind a Kysely instance made by createDb; undefined for any other. */
export function poolOf(db: Kysely<DB>): SharedPool | undefined {
  return pools.get(db);
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
export async function inSessionTransaction<T>(pool: SharedPool, fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
  const conn = await acquire(await pool.get());
  try {
    const session: SqlExecutor = {
      executeQuery: async <R>(query: CompiledQuery<R>) =>
        toQueryResult<R>(await send(conn, query.sql, query.parameters)),
    };
    await send(conn, 'begin', []);
    let committed = false;
    try {
      const result = await fn(session);
      await send(conn, 'commit', []);
      committed = true;
      return result;
    } catch (err) {
      if (!committed) await send(conn, 'rollback', []).catch(() => undefined);
      throw err;
    }
  } finally {
    conn.release();
  }
}
