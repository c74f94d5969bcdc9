import type { MysqlPool } from 'kysely';
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2';

/**
 * The mysql2 pool behind every Kysely instance: its options, and the one session setting a new
 * connection may get. Statement deadlines (statement-deadline.ts) and credentials from Secrets
 * Manager (secret-pool.ts) wrap it; client.ts puts the three together.
 */

/** A mysql2 pool, or a wrapper handing out its connections (see secret-pool.ts). */
export interface ConnectionSource {
  getConnection(callback: (error: unknown, connection: PoolConnection) => void): void;
  end(callback: (error: unknown) => void): void;
}

/** What Kysely's MysqlDialect is given: a pool, or a factory it calls on first use. */
export type DialectPool = MysqlPool | (() => Promise<MysqlPool>);

export interface PoolSettings {
  databaseUrl: string;
  size: number;
  connectTimeoutMs: number;
  /** Session innodb_lock_wait_timeout set on each new connection; 0 leaves the server's value. */
  lockWaitTimeoutS: number;
  tls: boolean;
}

export interface DbCredentials {
  user: string;
  password: string;
}

/** A pool factory: the same options every time, with the credentials of the moment when given. */
export type PoolFactory = (credentials?: DbCredentials) => Pool;

export function poolFactory(settings: PoolSettings): PoolFactory {
  const options: PoolOptions = {
    uri: settings.databaseUrl,
    connectionLimit: settings.size,
    maxIdle: settings.size,
    idleTimeout: 60_000,
    connectTimeout: settings.connectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    dateStrings: false,
    // Several statements in one query: an order sends its stock lock, stock UPDATE and COMMIT in
    // ONE round trip (lib/db/session.ts commitWith, docs/decisions/0016-lock-tail-one-round-trip.md).
    // Every statement this code sends is fixed text with `?` placeholders whose values mysql2
    // escapes, so a value can never end one statement and start another.
    multipleStatements: true,
    // RDS Proxy's certificate is publicly trusted, so Node's default CA store verifies it.
    ...(settings.tls ? { ssl: { minVersion: 'TLSv1.2', rejectUnauthorized: true } } : {}),
  };
  const lockWait = Math.trunc(settings.lockWaitTimeoutS);
  return (credentials) => {
    // Explicit user/password take precedence over those in the URI (mysql2 merges the URI under them).
    const pool = createPool(credentials ? { ...options, ...credentials } : options);
    if (lockWait > 0) {
      // Queued on the new connection before any query the pool hands it out for. In production the
      // value belongs in the parameter group or the proxy's init query instead (a SET pins RDS Proxy).
      pool.on('connection', (conn) => {
        conn.query(`SET SESSION innodb_lock_wait_timeout = ${lockWait}`);
      });
    }
    return pool;
  };
}
