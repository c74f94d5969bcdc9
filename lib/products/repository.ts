import { type Kysely, sql } from 'kysely';
import { isDuplicateKey } from '../db/errors';
import type { DB, NewProductRow, ProductUpdate } from '../db/types';
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

/** Inserts one product; returns its id. */
export async function insertProduct(db: Kysely<DB>, row: NewProductRow): Promise<number> {
  const res = await db.insertInto('products').values(row).executeTakeFirstOrThrow();
  return Number(res.insertId);
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
