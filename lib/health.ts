import { sql } from 'kysely';
import { config } from './config';
import { db } from './db/client';

/** True when the database answers `SELECT 1` within the configured health timeout. */
export async function databaseIsUp(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), config().healthTimeoutMs);
  });
  const probe = sql`SELECT 1`.execute(db()).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
