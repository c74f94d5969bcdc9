import { DatabaseUnavailableError } from '../errors';
import { databaseCredentials } from '../secrets';
import type { ConnectionSource, DbCredentials, PoolFactory } from './pool';

/**
 * A pool whose user and password come from Secrets Manager (DB_SECRET_ARN), and that follows a
 * rotation of that secret. When the server refuses the credentials (the secret was rotated since it
 * was read) it reads the secret again, bypassing the cache, and if the value changed replaces the
 * pool and retries once. Kysely calls the factory that returns this on first use and again after a
 * failed attempt, so a Secrets Manager outage is a 503 that heals by itself.
 */
export async function secretPool(makePool: PoolFactory): Promise<ConnectionSource> {
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
