import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { migrateToLatest } from '../../lib/db/migrate';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';
import { pointProcessAt } from '../../scripts/lib/process-db';

/**
 * A fresh migrated database of its own for one test file, on the run's server, with this process's
 * pool pointed at it. For tests whose assertions cover whole tables (invariants over every row,
 * "nothing changed anywhere"), so that no other file's data can make them pass or fail.
 * Test files run in their own processes, so repointing the process-wide pool affects this file only.
 */
export interface IsolatedDatabase {
  url: string;
  name: string;
  /** Closes the pool, drops the database and points the process back at the run's database. */
  drop(): Promise<void>;
}

export async function useIsolatedDatabase(prefix: string, env: Record<string, string> = {}): Promise<IsolatedDatabase> {
  const serverUrl = serverUrlOf(inject('databaseUrl'));
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await createDatabase(serverUrl, name);
  const url = withDatabase(serverUrl, name);
  await migrateToLatest(url);
  const restore = await pointProcessAt(url, env);
  return {
    url,
    name,
    drop: async () => {
      await restore();
      if (process.env.KEEP_TEST_DB !== '1') await dropDatabase(serverUrl, name);
    },
  };
}
