/**
 * npm run check-invariants: verifies the data invariants (scripts/lib/invariants.ts) of a database and
 * exits 1 naming every violation, 0 with a one-line summary when all hold, 2 if it cannot check.
 *
 * Database: DATABASE_URL, else the `shop` database of the dev server (see scripts/lib/mysql-server.ts;
 * nothing is started).
 */
import { createDb } from '../lib/db/client';
import { checkInvariants, formatViolation } from './lib/invariants';
import { redactUrl } from './lib/mysql-server';
import { existingDevDatabaseUrl } from './lib/prepare-database';

async function main(): Promise<number> {
  const url = await existingDevDatabaseUrl();
  const db = createDb(url, { poolSize: 1, lockWaitTimeoutS: 0, statementTimeoutMs: 0 });
  try {
    const report = await checkInvariants(db, { limitPerCheck: 1000 });
    const { products, orders, orderLines, movements } = report.counts;
    const fmt = (x: number) => x.toLocaleString('en-US');
    const scope = `${fmt(products)} products, ${fmt(orders)} orders, ${fmt(orderLines)} order lines, ${fmt(movements)} ledger movements`;
    if (report.ok) {
      console.log(`OK: all invariants hold in ${redactUrl(url)} (${scope}; ${(report.elapsedMs / 1000).toFixed(2)} s)`);
      return 0;
    }
    for (const v of report.violations) console.error(`VIOLATION ${formatViolation(v)}`);
    for (const name of report.truncated) console.error(`(${name}: more violations than listed)`);
    console.error(`FAILED: ${report.violations.length} violation(s) in ${redactUrl(url)} (${scope})`);
    return 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`check-invariants could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
