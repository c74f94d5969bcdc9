import { resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/db/client';

/**
 * Points this test process's module-level pool at another database (e.g. a throwaway server a
 * fault test stops or freezes): closes the pool and makes lib/config.ts read the URL again.
 */
export async function pointProcessAt(url: string): Promise<void> {
  await closeDb();
  process.env.DATABASE_URL = url;
  resetConfigForTests();
}

/** Runs `fn` and says how long it took, in whole milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}
