import { randomBytes } from 'node:crypto';
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../lib/db/client';
import { migrations } from '../../lib/db/migrations';
import type { DB } from '../../lib/db/types';
import { ProductNotFoundError } from '../../lib/errors';
import { countPriced, movePriceCounts, PRICE_COUNTS_READY } from '../../lib/products/price-counts';
import { archiveProduct, createProduct, updateProduct } from '../../lib/products/service';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';

/*
 * Migration 2026_11_30_0002 on databases that already have products (as a live one would), with
 * this release's writers running: it backfills the histogram in price ranges of about 20,000 live
 * products, each counted under shared locks and written as absolute values, so a write lands
 * either before its range is counted or after, and the histogram ends exact either way.
 */
const serverUrl = serverUrlOf(inject('databaseUrl'));
const made: string[] = [];
const open: Kysely<DB>[] = [];

afterAll(async () => {
  await Promise.all(open.map((d) => d.destroy()));
  if (process.env.KEEP_TEST_DB !== '1') for (const name of made) await dropDatabase(serverUrl, name);
});

const BEFORE = '2026_11_30_0001_in_stock_index';
const THIS = '2026_11_30_0002_price_counts';
const PRODUCTS = 45_000; // three backfill ranges

async function databaseBefore(poolSize: number): Promise<{ db: Kysely<DB>; migrator: Migrator }> {
  const name = `shop_test_price_counts_migration_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await createDatabase(serverUrl, name);
  made.push(name);
  const db = createDb(withDatabase(serverUrl, name), { poolSize, statementTimeoutMs: 0, lockWaitTimeoutS: 20 });
  open.push(db);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
  // Products straight in SQL (as the previous release left them): prices 1.00–999.99 spread out,
  // several per price, every 7th archived; each with its shard, so the service can write them.
  const digits = sql.raw(
    '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)',
  );
  await sql`
    INSERT INTO products (name, name_key, description, price_cents, stock, archived_at, created_at, updated_at)
    SELECT CONCAT('p ', s.n), CONCAT('p ', s.n), '', 100 + (s.n * 7919) % 99900, 0, IF(s.n % 7 = 0, NOW(3), NULL), NOW(3), NOW(3)
      FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
              FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c CROSS JOIN ${digits} e CROSS JOIN ${digits} f) s
     WHERE s.n < ${PRODUCTS}`.execute(db);
  await sql`INSERT INTO stock_shards (product_id, shard_no, stock, live)
            SELECT id, 0, 0, archived_at IS NULL FROM products`.execute(db);
  await sql`UPDATE counters SET value = (SELECT COUNT(*) FROM products WHERE archived_at IS NULL)
             WHERE name = 'live_products'`.execute(db);
  // This release's writers also keep per-term counts (the next migration's table); empty here, the
  // next migration counts them.
  await sql`CREATE TABLE product_search_term_counts (
    term VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, products INT NOT NULL,
    PRIMARY KEY (term)) ENGINE=InnoDB`.execute(db);
  return { db, migrator };
}

async function expectHistogramExact(db: Kysely<DB>): Promise<void> {
  const report = await checkInvariants(db);
  expect(report.violations.filter((v) => v.invariant === 'price_counts').map(formatViolation)).toEqual([]);
  const ready = await db.selectFrom('counters').select('value').where('name', '=', PRICE_COUNTS_READY).execute();
  expect(ready.map((r) => Number(r.value))).toEqual([1]);
  for (const [lo, hi] of [
    [100, 104_99],
    [0, 1_000],
    [50_000, 50_099],
    [99_000, undefined],
  ] as const) {
    const { rows } = await sql<{ n: unknown }>`
      SELECT COUNT(*) AS n FROM products
       WHERE archived_at IS NULL AND price_cents >= ${lo} AND price_cents <= ${hi ?? 9_999_999_999}`.execute(db);
    expect(await countPriced(db, lo, hi, 1_000_000)).toBe(Number(rows[0]?.n));
  }
}

/** A writer may pick a product another one archived: 404, nothing written. */
const archivedAlready = (err: unknown): void => {
  if (!(err instanceof ProductNotFoundError)) throw err;
};

const tableExists = async (db: Kysely<DB>): Promise<boolean> => {
  const { rows } = await sql<{ n: unknown }>`
    SELECT COUNT(*) AS n FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'product_price_counts'`.execute(db);
  return Number(rows[0]?.n) > 0;
};

describe('migration 2026_11_30_0002_price_counts', () => {
  it('backfills the histogram exactly while creates, re-prices and archives run beside it', async () => {
    const { db, migrator } = await databaseBefore(6);
    const ids = (await db.selectFrom('products').select('id').where('archived_at', 'is', null).execute()).map((r) =>
      Number(r.id),
    );
    const migrating = migrator.migrateTo(THIS);
    let done = false;
    void migrating.finally(() => {
      done = true;
    });
    // This release is deployed before the migration runs: its writers move histogram rows as soon
    // as the table exists, in ranges already backfilled and in ranges not reached yet.
    while (!done && !(await tableExists(db))) await new Promise((r) => setTimeout(r, 5));
    let writes = 0;
    const writer = async (w: number) => {
      for (let i = 0; !done; i++) {
        const id = ids[(w * 7_919 + i * 104_729) % ids.length] as number;
        const price = (100 + ((w * 31 + i * 7_717) % 99_900)) / 100;
        if (i % 11 === 5) await archiveProduct(db, id).catch(archivedAlready);
        else if (i % 3 === 0) await createProduct(db, { name: `new ${w} ${i}`, description: '', price, stock: 1 });
        else await updateProduct(db, id, { price }).catch(archivedAlready);
        writes++;
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    const result = await migrating;
    expect(result.error).toBeUndefined();
    expect(result.results?.map((r) => r.migrationName)).toEqual([THIS]);
    expect(writes).toBeGreaterThan(10);
    await expectHistogramExact(db);
    const rows = await db.selectFrom('product_price_counts').select(sql<number>`COUNT(*)`.as('n')).executeTakeFirst();
    expect(Number(rows?.n)).toBeGreaterThan(30_000);
    // The next migration counts the terms the writers made meanwhile: every invariant holds.
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    expect((await checkInvariants(db)).violations.map(formatViolation)).toEqual([]);
  }, 120_000);

  it('waits for a re-price in flight in a range it counts, and keeps its delta', async () => {
    const { db, migrator } = await databaseBefore(4);
    // The table already there with nothing in it (as after the migration's first statement), and a
    // re-price of this release holding its products row and its histogram rows, not committed.
    await sql`CREATE TABLE product_price_counts (
      width_cents INT UNSIGNED NOT NULL, bucket BIGINT UNSIGNED NOT NULL, products INT NOT NULL,
      PRIMARY KEY (width_cents, bucket)) ENGINE=InnoDB`.execute(db);
    const target = await db
      .selectFrom('products')
      .select(['id', 'price_cents'])
      .where('archived_at', 'is', null)
      .where('price_cents', '<', 5_000)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const trx = await db.startTransaction().execute();
    await trx.updateTable('products').set({ price_cents: 123 }).where('id', '=', target.id).execute();
    await movePriceCounts(trx, [
      { priceCents: Number(target.price_cents), delta: -1 },
      { priceCents: 123, delta: 1 },
    ]);
    const migrating = migrator.migrateTo(THIS);
    const waiting = async (): Promise<boolean> => {
      const { rows } = await sql<{ n: unknown }>`
        SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
         WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%LOCK IN SHARE MODE%'`.execute(db);
      return Number(rows[0]?.n) > 0;
    };
    for (let i = 0; i < 400 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    expect(await waiting(), 'the backfill waits for the re-price').toBe(true);
    await trx.commit().execute();
    expect((await migrating).error).toBeUndefined();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    await expectHistogramExact(db);
  }, 120_000);
});
