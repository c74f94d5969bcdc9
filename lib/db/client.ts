import { Kysely, MysqlDialect, MysqlDriver } from 'kysely';
import { config } from '../config';
import type { RequestScope } from '../request-scope';
import { poolFactory } from './pool';
import { secretPool } from './secret-pool';
import {
  type PoolSource,
  poolOf,
  registerPool,
  ScopedConnectionProvider,
  type SharedPool,
  sharedPool,
} from './session';
import { withStatementDeadlines } from './statement-deadline';
import type { DB } from './types';

/**
 * The database handles: `createDb` puts together a pool (pool.ts), deadlines on its statements
 * (statement-deadline.ts) and, with DB_SECRET_ARN set (prod), credentials from Secrets Manager that
 * follow a rotation (secret-pool.ts). `db()` and `readDb()` are the process-wide ones.
 */

export interface CreateDbOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Session innodb_lock_wait_timeout set on each new connection; 0 leaves the server default. */
  lockWaitTimeoutS?: number;
  /** Client-side deadline of every statement (0: none, for scripts' long statements). */
  statementTimeoutMs?: number;
}

/**
 * A Kysely instance over a mysql2 pool. Kysely sends plain `query` (text protocol, no server-side
 * prepared statements), which keeps RDS Proxy from pinning connections.
 */
export function createDb(databaseUrl: string, options: CreateDbOptions = {}): Kysely<DB> {
  const cfg = config();
  const lockWaitTimeoutS = options.lockWaitTimeoutS ?? cfg.dbLockWaitTimeoutS;
  // Never shorter than a full lock wait (plus slack): that is a 503 busy, retried, not a lost database.
  const configured = options.statementTimeoutMs ?? cfg.dbStatementTimeoutMs;
  const statementTimeoutMs = configured > 0 ? Math.max(configured, lockWaitTimeoutS * 1000 + 2_000) : 0;
  const makePool = poolFactory({
    databaseUrl,
    size: options.poolSize ?? cfg.dbPoolSize,
    connectTimeoutMs: options.connectTimeoutMs ?? cfg.dbConnectTimeoutMs,
    lockWaitTimeoutS,
    tls: cfg.dbTls,
  });
  const pool: PoolSource = cfg.dbSecretArn
    ? async () => withStatementDeadlines(await secretPool(makePool), statementTimeoutMs)
    : withStatementDeadlines(makePool(), statementTimeoutMs);
  // One pool for Kysely and for the order path's sessions (session.ts), made once, ended once.
  const shared = sharedPool(pool);
  const db = new PooledKysely(shared);
  registerPool(db, shared);
  return db;
}

/** A Kysely whose destroy also ends the pool when only sessions (session.ts) ever used it. */
class PooledKysely extends Kysely<DB> {
  readonly #pool: SharedPool;
  constructor(pool: SharedPool) {
    super({ dialect: new MysqlDialect({ pool: () => pool.forKysely() }) });
    this.#pool = pool;
  }
  override async destroy(): Promise<void> {
    await super.destroy();
    await this.#pool.end();
  }
}

/**
 * Bound handles share one dialect and one driver, used only for what Kysely asks a driver to do on
 * a connection it was given (BEGIN, COMMIT, ROLLBACK, savepoints): their connections come from
 * ScopedConnectionProvider, so the driver never makes a pool of its own.
 */
const noPool = async (): Promise<never> => {
  throw new Error('a handle bound to a request has no pool of its own');
};
const boundDialect = new MysqlDialect({ pool: noPool });
const boundDriver = new MysqlDriver({ pool: noPool });

/**
 * `db` for one request: the same pool, compiler and plugins, with every connection it takes (and
 * every session transaction on it, session.ts) carrying the request's scope, so its statements
 * get the request's deadline and its retries are counted (lib/request-scope.ts). A handle not made
 * by createDb is returned as it is. Cheap: a new Kysely over the same executor, no pool.
 */
export function bindScope(db: Kysely<DB>, scope: RequestScope): Kysely<DB> {
  const binding = poolOf(db);
  if (!binding) return db;
  const bound = new Kysely<DB>({
    config: { dialect: boundDialect },
    dialect: boundDialect,
    driver: boundDriver,
    executor: db.getExecutor().withConnectionProvider(new ScopedConnectionProvider(binding.pool, scope)),
  });
  registerPool(bound, binding.pool, scope);
  return bound;
}

let writer: Kysely<DB> | undefined;
let reader: Kysely<DB> | undefined;

/** The process-wide database (one small pool per Lambda instance, created on first use). */
export function db(): Kysely<DB> {
  writer ??= createDb(config().databaseUrl);
  return writer;
}

/** For GET handlers: the read endpoint when DATABASE_READ_URL is set, else the writer. */
export function readDb(): Kysely<DB> {
  const url = config().databaseReadUrl;
  if (!url) return db();
  reader ??= createDb(url);
  return reader;
}

/** A request's bound handles, each made on first use, keyed by the process-wide handle they bind. */
const handles = new WeakMap<RequestScope, Map<Kysely<DB>, Kysely<DB>>>();

function boundFor(scope: RequestScope, base: Kysely<DB>): Kysely<DB> {
  let byBase = handles.get(scope);
  if (!byBase) {
    byBase = new Map();
    handles.set(scope, byBase);
  }
  let bound = byBase.get(base);
  if (!bound) {
    bound = bindScope(base, scope);
    byBase.set(base, bound);
  }
  return bound;
}

/** The process-wide writer bound to one request's scope (made once per request): for handlers. */
export function dbFor(scope: RequestScope): Kysely<DB> {
  return boundFor(scope, db());
}

/** readDb() bound to one request's scope: the writer's handle when there is no read endpoint. */
export function readDbFor(scope: RequestScope): Kysely<DB> {
  return boundFor(scope, readDb());
}

/** Closes the process-wide pools (tests, scripts). */
export async function closeDb(): Promise<void> {
  const all = [writer, reader].filter((d): d is Kysely<DB> => d !== undefined);
  writer = undefined;
  reader = undefined;
  await Promise.all(all.map((d) => d.destroy()));
}
