import { resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/db/client';

/**
 * Points this process's module-level pool at another database (a test's own database, a throwaway
 * server a fault test stops, a benchmark database): closes the pool, sets DATABASE_URL and any other
 * variables (undefined removes one), and makes lib/config.ts read the environment again.
 * Returns a function that closes the pool and puts the previous values back.
 */
export async function pointProcessAt(
  url: string,
  env: Record<string, string | undefined> = {},
): Promise<() => Promise<void>> {
  return overrideProcessEnv({ ...env, DATABASE_URL: url });
}

/**
 * Sets (or, with undefined, removes) environment variables for this process, closing the pool and
 * making lib/config.ts read them again; e.g. a test's own lock wait or pool size. Returns a function
 * that closes the pool and puts the previous values back.
 */
export async function overrideProcessEnv(changes: Record<string, string | undefined>): Promise<() => Promise<void>> {
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(changes)) saved[key] = process.env[key];
  await apply(changes);
  return () => apply(saved);
}

async function apply(values: Record<string, string | undefined>): Promise<void> {
  await closeDb();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetConfigForTests();
}
