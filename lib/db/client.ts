import {
  Kysely,
  MysqlDialect,
  type MysqlPool,
  type MysqlPoolConnection,
  type MysqlQueryResult,
  type MysqlStream,
  type MysqlStreamOptions,
} from 'kysely';
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2';
import { config } from '../config';
import { DatabaseUnavailableError } from '../errors';
import { type DbCredentials, databaseCredentials } from '../secrets';
import type { DB } from './types';

export interface CreateDbOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Session innodb_lock_wait_timeout set on each new connection; 0 leaves the server default. */
  lockWaitTimeoutS?: number;
  /** Client-side deadline of every statement (0: none, for scripts' long statements). */
  statementTimeoutMs?: number;
}

/** A mysql2 pool, or a wrapper handing out its connections (see secretPool). */
interface ConnectionSource {
  getConnection(callback: (error: unknown, connection: PoolConnection) => void): void;
  end(callback: (error: unknown) => void): void;
}

/** mysql2's error for a statement that outlived its `timeout`. */
const STATEMENT_TIMEOUT = 'PROTOCOL_SEQUENCE_TIMEOUT';

/**
 * A database that stops answering (hung server, failover, a path that drops packets) leaves a
 * statement on a warm pooled connection waiting forever: TCP keepalive does not notice a live
 * host whose server is stuck. So every statement gets a deadline; on expiry the error maps to
 * 503 database_unavailable and the connection is destroyed, so that the pool never hands out a
 * connection with a reply still owed on it.
 */
function withStatementTimeout(pool: ConnectionSource, timeoutMs: number): MysqlPool {
  const wrapped = new WeakMap<PoolConnection, MysqlPoolConnection>();
  const wrap = (conn: PoolConnection): MysqlPoolConnection => {
    const existing = wrapped.get(conn);
    if (existing) return existing;
    type Streamable = { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> };
    function query(sql: string, values: unknown[]): Streamable;
    function query(sql: string, values: unknown[], callback: (error: unknown, result: MysqlQueryResult) => void): void;
    function query(sql: string, values: unknown[], callback?: (error: unknown, result: MysqlQueryResult) => void) {
      const options = { sql, values, timeout: timeoutMs };
      // mysql2's Readable is the async-iterable stream Kysely asks for.
      if (!callback) return conn.query(options) as unknown as Streamable;
      conn.query(options, (error, result) => {
        if ((error as { code?: unknown } | null)?.code === STATEMENT_TIMEOUT) conn.destroy();
        callback(error, result as MysqlQueryResult);
      });
    }
    const connection: MysqlPoolConnection = { query, release: () => conn.release() };
    wrapped.set(conn, connection);
    return connection;
  };
  return {
    getConnection: (callback) =>
      pool.getConnection((error, conn) =>
        error ? callback(error, undefined as unknown as MysqlPoolConnection) : callback(null, wrap(conn)),
      ),
    end: (callback) => pool.end(callback),
  };
}

/**
 * A Kysely instance over a mysql2 pool. Kysely sends plain `query` (text protocol, no server-side
 * prepared statements), which keeps RDS Proxy from pinning connections. With DB_SECRET_ARN set
 * (prod) the user and password come from Secrets Manager when the pool is first used.
 */
export function createDb(databaseUrl: string, options: CreateDbOptions = {}): Kysely<DB> {
  const cfg = config();
  const lockWait = options.lockWaitTimeoutS ?? cfg.dbLockWaitTimeoutS;
  // Never shorter than a full lock wait (plus slack): that is a 503 busy, retried, not a lost database.
  const configuredTimeout = options.statementTimeoutMs ?? cfg.dbStatementTimeoutMs;
  const statementTimeoutMs = configuredTimeout > 0 ? Math.max(configuredTimeout, lockWait * 1000 + 2_000) : 0;
  const size = options.poolSize ?? cfg.dbPoolSize;
  const poolOptions: PoolOptions = {
    uri: databaseUrl,
    connectionLimit: size,
    maxIdle: size,
    idleTimeout: 60_000,
    connectTimeout: options.connectTimeoutMs ?? cfg.dbConnectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    dateStrings: false,
    // RDS Proxy's certificate is publicly trusted, so Node's default CA store verifies it.
    ...(cfg.dbTls ? { ssl: { minVersion: 'TLSv1.2', rejectUnauthorized: true } } : {}),
  };
  const makePool = (credentials?: DbCredentials): Pool => {
    // Explicit user/password take precedence over those in the URI (mysql2 merges the URI under them).
    const pool = createPool(credentials ? { ...poolOptions, ...credentials } : poolOptions);
    if (lockWait > 0) {
      // Queued on the new connection before any query the pool hands it out for. In production the
      // value belongs in the parameter group or the proxy's init query instead (a SET pins RDS Proxy).
      pool.on('connection', (conn) => {
        conn.query(`SET SESSION innodb_lock_wait_timeout = ${Math.trunc(lockWait)}`);
      });
    }
    return pool;
  };
  const withDeadline = (source: ConnectionSource): MysqlPool =>
    statementTimeoutMs > 0 ? withStatementTimeout(source, statementTimeoutMs) : source;
  const pool = cfg.dbSecretArn ? async () => withDeadline(await secretPool(makePool)) : withDeadline(makePool());
  return new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
}

const isAccessDenied = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { errno?: unknown }).errno === 1045;

async function credentialsOrUnavailable(forceFetch: boolean): Promise<DbCredentials> {
  try {
    const credentials = await databaseCredentials(forceFetch);
    if (credentials) return credentials;
  } catch (err) {
    // Without credentials there is no database: the same 503 as an unreachable server.
    throw new DatabaseUnavailableError(err);
  }
  throw new DatabaseUnavailableError(new Error('DB_SECRET_ARN is not set'));
}

/**
 * A pool whose credentials come from Secrets Manager. When the server refuses them (the secret was
 * rotated since it was read) it reads the secret again, bypassing the cache, and if the value
 * changed replaces the pool and retries once. Kysely calls this factory on first use and again
 * after a failed attempt, so a Secrets Manager outage is a 503 that heals by itself.
 */
async function secretPool(makePool: (credentials: DbCredentials) => Pool): Promise<ConnectionSource> {
  let credentials = await credentialsOrUnavailable(false);
  let pool = makePool(credentials);
  return {
    getConnection(callback) {
      pool.getConnection((err, connection) => {
        if (!err || !isAccessDenied(err)) return callback(err, connection);
        credentialsOrUnavailable(true).then(
          (fresh) => {
            if (fresh.user === credentials.user && fresh.password === credentials.password) {
              return callback(err, connection);
            }
            const stale = pool;
            credentials = fresh;
            pool = makePool(fresh);
            stale.end(() => undefined);
            pool.getConnection(callback);
          },
          () => callback(err, connection),
        );
      });
    },
    end(callback) {
      pool.end(callback);
    },
  };
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

/** Closes the process-wide pools (tests, scripts). */
export async function closeDb(): Promise<void> {
  const all = [writer, reader].filter((d): d is Kysely<DB> => d !== undefined);
  writer = undefined;
  reader = undefined;
  await Promise.all(all.map((d) => d.destroy()));
}
