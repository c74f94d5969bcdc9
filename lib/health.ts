import { sql } from 'kysely';
import { config } from './config';
import type { Kysely } from 'kysely';
import { db } from './db/client';
import type { DB } from './db/types';

/** True when the database answers `SELECT 1` within the configured health timeout. */
export async function databaseIsUp(database: Kysely<DB> = db()): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), config().healthTimeoutMs);
  });
  const probe = sql`SELECT 1`.execute(database).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
