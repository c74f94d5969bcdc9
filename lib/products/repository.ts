import { type Kysely, sql } from 'kysely';
import { isDuplicateKey } from '../db/errors';
import type { DB, NewProductRow, ProductUpdate } from '../db/types';
import { type Movement, recordMovements } from '../stock/ledger';
import type { ProductRecord } from './present';

/** Product queries. Each takes the database or a transaction first, so it runs inside or outside one. */

const COLUMNS = [
  'id',
  'name',
  'description',
  'price_cents',
  'stock',
  'archived_at',
  'created_at',
  'updated_at',
] as const;
const P_COLUMNS = COLUMNS.map((c) => `p.${c}` as const);

const LIVE_PRODUCTS = 'live_products';
const LIVE_NAME_INDEX = 'uq_products_live_name';

/**
 * The one way products are made (the service, the seed, the test factories, the benchmark): inserts
 * `rows` in one statement, with what every product comes with, in the caller's transaction: one
 * `created` stock movement each (none for stock 0) and the live-product counter moved by the live
 * ones (last: it is the one lock every create and archive shares). The movements take the first
 * row's `created_at` (callers insert rows made at one instant). Returns the ids in row order.
 *
 * A multi-row INSERT with a known row count ("simple insert") gets consecutive AUTO_INCREMENT ids
 * from InnoDB; a count checks that before the movements are written, so a surprise throws (and
 * rolls the transaction back) instead of skewing the ledger.
 */
export async function insertProducts(trx: Kysely<DB>, rows: NewProductRow[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const res = await trx.insertInto('products').values(rows).executeTakeFirstOrThrow();
  const first = Number(res.insertId);
  const ids = rows.map((_, i) => first + i);
  if (rows.length > 1) {
    const check = await trx
      .selectFrom('products')
      .select(sql<number>`COUNT(*)`.as('n'))
      .where('id', '>=', first)
      .where('id', '<=', first + rows.length - 1)
      .executeTakeFirstOrThrow();
    if (Number(check.n) !== rows.length)
      throw new Error(`product ids were not consecutive (${check.n} of ${rows.length})`);
  }
  const created = rows.map(
    (row, i): Movement => ({ productId: ids[i] as number, delta: row.stock, reason: 'created' }),
  );
  await recordMovements(trx, created, rows[0]?.created_at ?? new Date());
  await addToLiveProductCount(trx, rows.filter((row) => row.archived_at == null).length);
  return ids;
}

/** True when `err` is the unique index on live names refusing a second live product of one name. */
export function isLiveNameConflict(err: unknown): boolean {
  return isDuplicateKey(err) && err instanceof Error && err.message.includes(LIVE_NAME_INDEX);
}

export async function findLiveProduct(db: Kysely<DB>, id: number): Promise<ProductRecord | undefined> {
  return db
    .selectFrom('products')
    .select(COLUMNS)
    .where('id', '=', id)
    .where('archived_at', 'is', null)
    .executeTakeFirst();
}

/** The live product, row-locked until the transaction ends. */
export async function lockLiveProduct(trx: Kysely<DB>, id: number): Promise<ProductRecord | undefined> {
  return trx
    .selectFrom('products')
    .select(COLUMNS)
    .where('id', '=', id)
    .where('archived_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

/** Keyset window: live products with id > afterId, by id (a range on idx_products_archived_id). */
export async function listLiveAfter(db: Kysely<DB>, afterId: number, limit: number): Promise<ProductRecord[]> {
  return db
    .selectFrom('products')
    .select(COLUMNS)
    .where('archived_at', 'is', null)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Offset window. The offset is walked on the covering (archived_at, id) index in a derived table,
 * and only the rows of the page are fetched whole (a "deferred join"), so a deep page does not
 * read every skipped row.
 */
export async function listLivePage(db: Kysely<DB>, offset: number, limit: number): Promise<ProductRecord[]> {
  return db
    .selectFrom('products as p')
    .innerJoin(
      (eb) =>
        eb
          .selectFrom('products')
          .select('id')
          .where('archived_at', 'is', null)
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .as('w'),
      (join) => join.onRef('w.id', '=', 'p.id'),
    )
    .select(P_COLUMNS)
    .orderBy('p.id')
    .execute();
}

export async function updateProductRow(trx: Kysely<DB>, id: number, changes: ProductUpdate): Promise<void> {
  await trx.updateTable('products').set(changes).where('id', '=', id).execute();
}

/** Archives the product if it is live; false when it is missing or already archived. */
export async function archiveLiveProduct(trx: Kysely<DB>, id: number, at: Date): Promise<boolean> {
  const res = await trx
    .updateTable('products')
    .set({ archived_at: at, updated_at: at })
    .where('id', '=', id)
    .where('archived_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** The maintained count of live products (no COUNT(*) over the catalogue). */
export async function liveProductCount(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('counters').select('value').where('name', '=', LIVE_PRODUCTS).executeTakeFirst();
  return Number(row?.value ?? 0);
}

/**
 * Moves the live-product counter, in the transaction that creates or archives products. Callers do
 * it last: the counter row is the one lock every create and archive shares, so it is held briefly.
 */
export async function addToLiveProductCount(trx: Kysely<DB>, delta: number): Promise<void> {
  if (delta === 0) return;
  await trx
    .updateTable('counters')
    .set({ value: sql`value + ${delta}` })
    .where('name', '=', LIVE_PRODUCTS)
    .execute();
}
