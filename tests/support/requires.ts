import { hasServerBinary } from '../../scripts/lib/mysql-server';

/**
 * Whether a test that needs something this machine may lack must be skipped. Only outside CI: with
 * CI=true a missing requirement is never a skip, the test runs and fails naming it. A skip prints one
 * `SKIPPED:` line (repeated in the summary of .ci/run) and vitest counts it as skipped.
 */
export function skipWithout(available: boolean, test: string, howToEnable: string): boolean {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (available || ci) return false;
  console.warn(`SKIPPED: ${test}: ${howToEnable}.`);
  return true;
}

/** The fault tests start and stop servers of their own: they need a mariadbd or mysqld binary. */
export const skipWithoutServerBinary = (test: string): boolean =>
  skipWithout(
    hasServerBinary(),
    test,
    'no mariadbd or mysqld binary found; install one (apt-get install mariadb-server, brew install mariadb)',
  );
