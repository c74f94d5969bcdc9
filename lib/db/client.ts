import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type Pool } from 'mysql2';
import { config } from '../config';
import type { DB } from './types';

export interface CreateDbOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Session innodb_lock_wait_timeout set on each new connection; 0 leaves the server default. */
  lockWaitTimeoutS?: number;
}

/**
 * A Kysely instance over a mysql2 pool. Kysely sends plain `query` (text protocol, no server-side
 * prepared statements), which keeps RDS Proxy from pinning connections.
 */
export function createDb(databaseUrl: string, options: CreateDbOptions = {}): Kysely<DB> {
  const cfg = config();
  const lockWait = options.lockWaitTimeoutS ?? cfg.dbLockWaitTimeoutS;
  const pool: Pool = createPool({
    uri: databaseUrl,
    connectionLimit: options.poolSize ?? cfg.dbPoolSize,
    maxIdle: options.poolSize ?? cfg.dbPoolSize,
    idleTimeout: 60_000,
    connectTimeout: options.connectTimeoutMs ?? cfg.dbConnectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    dateStrings: false,
  });
  if (lockWait > 0) {
    // Queued on the new connection before any query the pool hands it out for. In production the
    // value belongs in the parameter group or the proxy's init query instead (a SET pins RDS Proxy).
    pool.on('connection', (conn) => {
      conn.query(`SET SESSION innodb_lock_wait_timeout = ${Math.trunc(lockWait)}`);
    });
  }
  return new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
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
