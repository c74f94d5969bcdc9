import { randomBytes } from 'node:crypto';
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDb } from '../../lib/db/client';
import { migrations } from '../../lib/db/migrations';
import type { DB } from '../../lib/db/types';
import { ProductNotFoundError } from '../../lib/errors';
import { countTerm, indexProductNames, renameSearchTerms, TERM_COUNTS_READY } from '../../lib/products/search-index';
import { archiveProduct, createProduct, updateProduct } from '../../lib/products/service';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';

/*
 * Migration 2026_11_30_0003 on databases whose products already have search terms (as a live one
 * would), with this release's writers running: it counts the terms in ranges of about 100,000
 * rows, each under shared locks and written as absolute values, so a create, rename or archive
 * lands either before its terms are counted or after, and the counts end exact either way.
 */
const serverUrl = serverUrlOf(inject('databaseUrl'));
const made: string[] = [];
const open: Kysely<DB>[] = [];

afterAll(async () => {
  await Promise.all(open.map((d) => d.destroy()));
  if (process.env.KEEP_TEST_DB !== '1') for (const name of made) await dropDatabase(serverUrl, name);
});

const BEFORE = '2026_11_30_0002_price_counts';
const PRODUCTS = 12_000; // about 250,000 term rows: three ranges
const ADJECTIVES = ['Sturdy', 'Small', 'Shiny', 'Silver', 'Soft', 'Simple'];
const NOUNS = ['saucepan', 'saucer', 'satchel', 'sandal', 'scarf', 'scooter', 'sofa'];
const nameOf = (n: number) => `${ADJECTIVES[n % 6]} ${NOUNS[n % 7]} number${n} ${n}`;

async function databaseBefore(): Promise<{ db: Kysely<DB>; migrator: Migrator }> {
  const name = `shop_test_term_counts_migration_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await createDatabase(serverUrl, name);
  made.push(name);
  const db = createDb(withDatabase(serverUrl, name), { poolSize: 6, statementTimeoutMs: 0, lockWaitTimeoutS: 20 });
  open.push(db);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
  // Products, shards and price histogram straight in SQL; the terms as the search migration wrote
  // them (indexProductNames: terms only, no counts). Every 9th archived (no terms).
  const digits = sql.raw(
    '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)',
  );
  await sql`
    INSERT INTO products (name, description, price_cents, stock, archived_at, created_at, updated_at)
    SELECT CONCAT('p ', s.n), '', 100, 0, IF(s.n % 9 = 0, NOW(3), NULL), NOW(3), NOW(3)
      FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
              FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c CROSS JOIN ${digits} e CROSS JOIN ${digits} f) s
     WHERE s.n < ${PRODUCTS}`.execute(db);
  const rows = await db.selectFrom('products').select(['id', 'archived_at']).orderBy('id').execute();
  const named = rows.map((r, i) => ({ id: Number(r.id), name: nameOf(i), live: r.archived_at === null }));
  for (let i = 0; i < named.length; i += 2_000) {
    const chunk = named.slice(i, i + 2_000);
    await sql`UPDATE products SET name = CASE id ${sql.join(
      chunk.map((p) => sql`WHEN ${p.id} THEN ${p.name}`),
      sql` `,
    )} END WHERE id IN (${sql.join(chunk.map((p) => p.id))})`.execute(db);
    await indexProductNames(db, chunk);
  }
  await sql`INSERT INTO stock_shards (product_id, shard_no, stock, live)
            SELECT id, 0, 0, archived_at IS NULL FROM products`.execute(db);
  const live = named.filter((p) => p.live).length;
  await sql`UPDATE counters SET value = ${live} WHERE name = 'live_products'`.execute(db);
  await sql`INSERT INTO product_price_counts (width_cents, bucket, products) VALUES (1, 100, ${live}), (100, 1, ${live})`.execute(
    db,
  );
  return { db, migrator };
}

async function expectCountsExact(db: Kysely<DB>): Promise<void> {
  const report = await checkInvariants(db);
  expect(report.violations.map(formatViolation)).toEqual([]);
  const ready = await db.selectFrom('counters').select('value').where('name', '=', TERM_COUNTS_READY).execute();
  expect(ready.map((r) => Number(r.value))).toEqual([1]);
  for (const term of ['s', 'sa', 'sau', 'saucer', 'scarf', 'number1', '7']) {
    const { rows } = await sql<{
      n: unknown;
    }>`SELECT COUNT(*) AS n FROM product_search_terms WHERE term = ${term}`.execute(db);
    expect(Number(rows[0]?.n)).toBeGreaterThan(0);
    expect(await countTerm(db, term, 1_000_000)).toBe(Number(rows[0]?.n));
  }
}

const tableExists = async (db: Kysely<DB>): Promise<boolean> => {
  const { rows } = await sql<{ n: unknown }>`
    SELECT COUNT(*) AS n FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'product_search_term_counts'`.execute(db);
  return Number(rows[0]?.n) > 0;
};

/** A writer may pick a product another one archived: 404, nothing written. */
const archivedAlready = (err: unknown): void => {
  if (!(err instanceof ProductNotFoundError)) throw err;
};

describe('migration 2026_11_30_0003_search_term_counts', () => {
  it('counts every term exactly while creates, renames and archives run beside it', async () => {
    const { db, migrator } = await databaseBefore();
    const ids = (await db.selectFrom('products').select('id').where('archived_at', 'is', null).execute()).map((r) =>
      Number(r.id),
    );
    const migrating = migrator.migrateToLatest();
    let done = false;
    void migrating.finally(() => {
      done = true;
    });
    while (!done && !(await tableExists(db))) await new Promise((r) => setTimeout(r, 5));
    let writes = 0;
    const writer = async (w: number) => {
      for (let i = 0; !done; i++) {
        const id = ids[(w * 7_919 + i * 104_729) % ids.length] as number;
        const name = `${nameOf(w * 1_000 + i)} w${w}x${i}`;
        if (i % 11 === 5) await archiveProduct(db, id).catch(archivedAlready);
        else if (i % 3 === 0) await createProduct(db, { name, description: '', price: 1, stock: 0 });
        else await updateProduct(db, id, { name }).catch(archivedAlready);
        writes++;
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    const result = await migrating;
    expect(result.error).toBeUndefined();
    expect(result.results?.map((r) => r.migrationName)).toEqual(['2026_11_30_0003_search_term_counts']);
    expect(writes).toBeGreaterThan(10);
    await expectCountsExact(db);
  }, 120_000);

  it('waits for a rename in flight in a range it counts, and keeps its delta', async () => {
    const { db, migrator } = await databaseBefore();
    await sql`CREATE TABLE product_search_term_counts (
      term VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, products INT NOT NULL,
      PRIMARY KEY (term)) ENGINE=InnoDB`.execute(db);
    const target = await db
      .selectFrom('products')
      .select(['id', 'name'])
      .where('archived_at', 'is', null)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    // `aardvark` sorts before every seeded term: the first range counts it.
    const trx = await db.startTransaction().execute();
    await trx.updateTable('products').set({ name: 'Aardvark saucer' }).where('id', '=', target.id).execute();
    await renameSearchTerms(trx, target.id, target.name, 'Aardvark saucer');
    const migrating = migrator.migrateToLatest();
    const waiting = async (): Promise<boolean> => {
      const { rows } = await sql<{ n: unknown }>`
        SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
         WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%LOCK IN SHARE MODE%'`.execute(db);
      return Number(rows[0]?.n) > 0;
    };
    for (let i = 0; i < 400 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    expect(await waiting(), 'the backfill waits for the rename').toBe(true);
    await trx.commit().execute();
    expect((await migrating).error).toBeUndefined();
    await expectCountsExact(db);
    expect(await countTerm(db, 'aardvark', 100)).toBe(1);
  }, 120_000);
});
