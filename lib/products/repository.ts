import { type Kysely, type RawBuilder, sql } from 'kysely';
import { isDuplicateKey } from '../db/errors';
import type { DB, NewProductRow, ProductUpdate } from '../db/types';
import { type Movement, recordMovements } from '../stock/ledger';
import { distribute, insertShards, markShardsArchived } from '../stock/shards';
import type { Sort } from './cursor';
import type { ProductRecord } from './present';
import { nameKeyOf, type SearchPlan } from './search';
import { countPriced, movePriceCounts, pricesAdded } from './price-counts';
import { addSearchTermsFor, countTerm } from './search-index';

/** Product queries. Each takes the database or a transaction first, so it runs inside or outside one. */

const COLUMNS = ['id', 'name', 'description', 'price_cents', 'archived_at', 'created_at', 'updated_at'] as const;

const LIVE_PRODUCTS = 'live_products';
const LIVE_NAME_INDEX = 'uq_products_live_name';

/** A product to insert: its row, its total stock and in how many shard rows to keep it (default 1). */
export type NewProduct = NewProductRow & { stock: number; stock_shards?: number | undefined };

/**
 * The one way products are made (the service, the seed, the test factories, the benchmark): inserts
 * `rows` in one statement, with what every product comes with, in the caller's transaction: its
 * stock spread over `stock_shards` rows (one multi-row INSERT for all), one `created` stock
 * movement each (none for stock 0), the search index of the live ones (name_key on every row,
 * terms for live ones: lib/products/search-index.ts), the price histogram moved by the live ones
 * (lib/products/price-counts.ts) and the live-product counter moved by the live ones (last: it is
 * the one lock every create and archive shares). The movements take the
 * first row's `created_at` (callers insert rows made at one instant). Returns the ids in row order.
 *
 * A multi-row INSERT with a known row count ("simple insert") gets consecutive AUTO_INCREMENT ids
 * from InnoDB; a count checks that before the movements are written, so a surprise throws (and
 * rolls the transaction back) instead of skewing the ledger.
 */
export async function insertProducts(trx: Kysely<DB>, products: NewProduct[]): Promise<number[]> {
  if (products.length === 0) return [];
  const rows = products.map(({ stock: _stock, stock_shards: _shards, ...row }) => row);
  const keyed = rows.map((row) => ({ ...row, name_key: nameKeyOf(row.name) }));
  const res = await trx.insertInto('products').values(keyed).executeTakeFirstOrThrow();
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
  await insertShards(
    trx,
    products.flatMap((p, i) =>
      distribute(p.stock, p.stock_shards ?? 1).map((stock, shardNo) => ({
        product_id: ids[i] as number,
        shard_no: shardNo,
        stock,
        live: p.archived_at == null,
      })),
    ),
  );
  const created = products.map(
    (p, i): Movement => ({ productId: ids[i] as number, delta: p.stock, reason: 'created' }),
  );
  await recordMovements(trx, created, rows[0]?.created_at ?? new Date());
  await addSearchTermsFor(
    trx,
    rows.flatMap((row, i) => (row.archived_at == null ? [{ id: ids[i] as number, name: row.name }] : [])),
  );
  const live = rows.filter((row) => row.archived_at == null);
  await movePriceCounts(trx, pricesAdded(live.map((row) => row.price_cents)));
  await addToLiveProductCount(trx, live.length);
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

export async function updateProductRow(trx: Kysely<DB>, id: number, changes: ProductUpdate): Promise<void> {
  await trx.updateTable('products').set(changes).where('id', '=', id).execute();
}

/** products.stock, unused since migration 2026_11_29_0003 (read only for a product it has not copied yet). */
export async function legacyStock(trx: Kysely<DB>, id: number): Promise<number> {
  const { rows } = await sql<{ stock: number }>`SELECT stock FROM products WHERE id = ${id}`.execute(trx);
  return Number(rows[0]?.stock ?? 0);
}

/**
 * Archives the product if it is live and returns the name and price it had (its search terms and
 * its price histogram row are found from them); undefined when it is missing or already archived.
 * The UPDATE takes the row lock first, so the row read after it is the one archived. Its shards get
 * `live` = 0 in the same transaction.
 */
export async function archiveLiveProduct(
  trx: Kysely<DB>,
  id: number,
  at: Date,
): Promise<{ name: string; price_cents: number } | undefined> {
  const res = await trx
    .updateTable('products')
    .set({ archived_at: at, updated_at: at })
    .where('id', '=', id)
    .where('archived_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return undefined;
  // The products row is locked by the UPDATE above: its shards next (the global lock order).
  await markShardsArchived(trx, id);
  const row = await trx
    .selectFrom('products')
    .select(['name', 'price_cents'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { name: row.name, price_cents: Number(row.price_cents) };
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

/*
 * Search, filters and sorting (docs/decisions/0011-catalogue-search.md). The statements are built
 * from fixed SQL pieces and bound values only; every sort has its index (archived_at, column, id)
 * in the sort's direction, from migration 2026_11_29_0002.
 */

/** The filters of a list; all optional, combined with AND. */
export interface ListFilter {
  search?: SearchPlan | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  inStock?: boolean | undefined;
}

/** A listed row: the product and the sort value its cursor needs. */
export type ListedProduct = ProductRecord & { name_key: string };

/** Where a keyset page starts: after this sort value and id. */
export interface KeysetStart {
  key?: number | string | undefined;
  id: number;
}

/**
 * How a search is executed: `terms` reads the rarest-looking term's index entries first (id
 * order for free, any other sort by sorting the matches); `sort` walks the sort index and checks
 * each product's terms (best when a large share of the catalogue matches).
 */
export type SearchDriver = 'terms' | 'sort';

const SORT_COLUMN = {
  id: 'id',
  price: 'price_cents',
  name: 'name_key',
  created_at: 'created_at',
} as const;

export function sortColumnOf(sort: Sort): { column: 'id' | 'price_cents' | 'name_key' | 'created_at'; desc: boolean } {
  const desc = sort.startsWith('-');
  return { column: SORT_COLUMN[(desc ? sort.slice(1) : sort) as keyof typeof SORT_COLUMN], desc };
}

const LIST_COLUMNS = sql.raw(
  'p.id, p.name, p.description, p.price_cents, p.archived_at, p.created_at, p.updated_at, p.name_key',
);

/** `LIKE` pattern text with its wildcards escaped (\\ is MySQL's default escape character). */
const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Whether a product counts as in stock: a shard of it holds stock (its stock is the sum of its
 * shards, lib/stock/shards.ts). The one place that knows where stock lives.
 *
 * A scalar subquery, not `EXISTS`: both MariaDB 10.11 and MySQL 8 may turn an EXISTS into a
 * semi-join that materialises every shard row with stock (measured on 1M products: 1.4–2.3 s for
 * in_stock=true); an aggregate subquery stays a primary-key lookup per product row read (≈ 0.1 s
 * for the 10,001-row capped count, a few ms for a page).
 */
export function inStockCondition(inStock: boolean): RawBuilder<boolean> {
  const most = sql`COALESCE((SELECT MAX(s.stock) FROM stock_shards s WHERE s.product_id = p.id), 0)`;
  return inStock ? sql<boolean>`${most} > 0` : sql<boolean>`${most} = 0`;
}

/** Conditions on the product row (not the terms). */
function rowConditions(filter: ListFilter): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = [sql`p.archived_at IS NULL`];
  if (filter.minPriceCents !== undefined) out.push(sql`p.price_cents >= ${filter.minPriceCents}`);
  if (filter.maxPriceCents !== undefined) out.push(sql`p.price_cents <= ${filter.maxPriceCents}`);
  if (filter.inStock !== undefined) out.push(inStockCondition(filter.inStock));
  for (const w of filter.search?.wordStarts ?? []) out.push(sql`CONCAT(' ', p.name_key) LIKE ${`% ${likeEscape(w)}%`}`);
  for (const c of filter.search?.contains ?? []) out.push(sql`p.name_key LIKE ${`%${likeEscape(c)}%`}`);
  return out;
}

/**
 * Joins of the search terms from the `from`-th on, each an eq_ref lookup on the primary key of
 * (term, product_id) against `on` (the id of the table that drives the join).
 */
function termJoins(terms: readonly string[], from: number, on: 't0.product_id' | 'p.id'): RawBuilder<unknown> {
  return sql.join(
    terms.slice(from).map((term, i) => {
      const t = sql.raw(`t${i + from}`);
      return sql`JOIN product_search_terms ${t} ON ${t}.product_id = ${sql.raw(on)} AND ${t}.term = ${term}`;
    }),
    sql` `,
  );
}

const and = (parts: RawBuilder<unknown>[]): RawBuilder<unknown> => sql.join(parts, sql` AND `);

interface Window {
  sort: Sort;
  limit: number;
  offset?: number;
  after?: KeysetStart | undefined;
  driver?: SearchDriver;
}

/** FROM … WHERE … ORDER BY of a list, and the expression that is the id in it. */
function listBody(
  filter: ListFilter,
  w: Window,
): { select: RawBuilder<unknown>; from: RawBuilder<unknown>; rest: RawBuilder<unknown> } {
  const { column, desc } = sortColumnOf(w.sort);
  const terms = filter.search?.terms ?? [];
  const termsFirst = terms.length > 0 && (w.driver ?? 'terms') === 'terms';
  // With the terms first, `t0.product_id` is the id: its order and range come from t0's primary key.
  const idExpr = sql.raw(termsFirst ? 't0.product_id' : 'p.id');
  const conditions = rowConditions(filter);
  if (w.after) {
    const after = w.after;
    if (column === 'id') conditions.push(sql`${idExpr} > ${after.id}`);
    else {
      const col = sql.raw(`p.${column}`);
      const key = column === 'created_at' ? new Date(Number(after.key)) : after.key;
      // "(key, id) after (k, a)" written as a range on the key plus a filter: `key >= k` is a plain
      // index range (an OR of the two cases is not, on MariaDB: it walked from the first live row),
      // and only the products at exactly k are filtered by id.
      conditions.push(
        desc
          ? sql`${col} <= ${key} AND (${col} < ${key} OR p.id > ${after.id})`
          : sql`${col} >= ${key} AND (${col} > ${key} OR p.id > ${after.id})`,
      );
    }
  }
  // Terms first: all of them (index only) before the product row, read only for products with every term.
  let from: RawBuilder<unknown>;
  if (terms.length === 0) from = sql`products p`;
  else if (termsFirst)
    from = sql`product_search_terms t0 ${termJoins(terms, 1, 't0.product_id')} JOIN products p ON p.id = t0.product_id`;
  else from = sql`products p ${termJoins(terms, 0, 'p.id')}`;
  if (termsFirst) conditions.push(sql`t0.term = ${terms[0]}`);
  const order =
    column === 'id'
      ? sql`ORDER BY ${idExpr}`
      : sql`ORDER BY ${sql.raw(`p.${column}`)} ${sql.raw(desc ? 'DESC' : 'ASC')}, p.id`;
  // The join order is fixed when there are terms (the service picks the driver from the match
  // count), except beside a price range: then the optimizer weighs that range's index against the
  // terms, from its own estimates of both.
  const priced = filter.minPriceCents !== undefined || filter.maxPriceCents !== undefined;
  const fixed = terms.length > 0 && (!termsFirst || !priced);
  const select = fixed ? sql`SELECT STRAIGHT_JOIN` : sql`SELECT`;
  const paging = w.offset ? sql`LIMIT ${w.limit} OFFSET ${w.offset}` : sql`LIMIT ${w.limit}`;
  return { select, from, rest: sql`WHERE ${and(conditions)} ${order} ${paging}` };
}

/**
 * One window of live products matching `filter`, in `sort` order with ties by id: after a keyset
 * start (a cursor) or at an offset (a page). An offset page and a sorted keyset page are found on
 * ids only and the page's rows are read afterwards (a deferred join).
 */
export async function listMatching(db: Kysely<DB>, filter: ListFilter, w: Window): Promise<ListedProduct[]> {
  const { select, from, rest } = listBody(filter, w);
  // A keyset page of a sorted list is deferred too: on its own, MariaDB reads a non-covering
  // `(archived_at, key, id) >= (NULL, k, a)` as a ref on archived_at, walking from the first live
  // row; the ids-only statement is covering and gets the range.
  const deferred = Boolean(w.offset) || (w.after !== undefined && sortColumnOf(w.sort).column !== 'id');
  if (!deferred) {
    const res = await sql<ListedProduct>`${select} ${LIST_COLUMNS} FROM ${from} ${rest}`.execute(db);
    return res.rows;
  }
  const { column, desc } = sortColumnOf(w.sort);
  const terms = filter.search?.terms ?? [];
  const termsFirst = terms.length > 0 && (w.driver ?? 'terms') === 'terms';
  const idExpr = sql.raw(termsFirst ? 't0.product_id' : 'p.id');
  const order =
    column === 'id'
      ? sql`ORDER BY p.id`
      : sql`ORDER BY ${sql.raw(`p.${column}`)} ${sql.raw(desc ? 'DESC' : 'ASC')}, p.id`;
  const res = await sql<ListedProduct>`
    SELECT ${LIST_COLUMNS} FROM products p
    JOIN (${select} ${idExpr} AS id FROM ${from} ${rest}) w ON w.id = p.id
    ${order}`.execute(db);
  return res.rows;
}

/**
 * How many live products match `filter`, counting no further than `cap` (a filtered list never
 * counts a million rows). Maintained counts answer the commonest filters alone
 * (docs/decisions/0015-maintained-search-counts.md): a single search term, its count; a price
 * range, the price histogram. Otherwise the matches are counted up to `cap`: with a search only,
 * the terms table alone answers (archived products have no terms).
 */
export async function countMatching(db: Kysely<DB>, filter: ListFilter, cap: number): Promise<number> {
  const terms = filter.search?.terms ?? [];
  const conditions = rowConditions(filter);
  const termsOnly =
    terms.length > 0 &&
    conditions.length === 1 &&
    (filter.search?.wordStarts.length ?? 0) === 0 &&
    (filter.search?.contains.length ?? 0) === 0;
  let inner: RawBuilder<unknown>;
  if (termsOnly && terms.length === 1) {
    // One term and nothing else: its maintained count (lib/products/search-index.ts), until whose
    // backfill has finished its rows.
    const counted = await countTerm(db, terms[0] as string, cap);
    if (counted !== undefined) return counted;
    inner = sql`SELECT 1 FROM product_search_terms t0 WHERE t0.term = ${terms[0]} LIMIT ${cap}`;
  } else if (termsOnly) {
    const joins = termJoins(terms, 1, 't0.product_id');
    inner = sql`SELECT 1 FROM product_search_terms t0 ${joins} WHERE t0.term = ${terms[0]} LIMIT ${cap}`;
  } else if (terms.length > 0) {
    inner = sql`SELECT 1 FROM product_search_terms t0 ${termJoins(terms, 1, 't0.product_id')}
      JOIN products p ON p.id = t0.product_id
      WHERE t0.term = ${terms[0]} AND ${and(conditions)} LIMIT ${cap}`;
  } else if (filter.inStock === true && filter.minPriceCents === undefined && filter.maxPriceCents === undefined) {
    return countInStock(db, cap);
  } else if (filter.inStock === undefined && filter.search === undefined) {
    // A price range only: the maintained histogram (lib/products/price-counts.ts), until whose
    // backfill has finished the products themselves.
    const priced = await countPriced(db, filter.minPriceCents, filter.maxPriceCents, cap);
    if (priced !== undefined) return priced;
    inner = sql`SELECT 1 FROM products p WHERE ${and(conditions)} LIMIT ${cap}`;
  } else if (filter.minPriceCents === undefined && filter.maxPriceCents === undefined) {
    // Only in_stock=false, which no index holds: walk the rows in primary key order, several times
    // faster than looking each one up from the (archived_at, id) index.
    inner = sql`SELECT 1 FROM products p FORCE INDEX (PRIMARY) WHERE ${and(conditions)} LIMIT ${cap}`;
  } else {
    inner = sql`SELECT 1 FROM products p WHERE ${and(conditions)} LIMIT ${cap}`;
  }
  const res = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM (${inner}) c`.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}

/**
 * How many live products are in stock, counting no further than `cap`: ranges of the (sellable,
 * product_id) index of stock_shards, index only, no products row and no per-product lookup
 * (docs/decisions/0013-in-stock-index.md). `sellable` is 1 for a shard of a live product holding
 * stock, so the products with such a shard are exactly the live products in stock; GROUP BY folds a
 * product's several sellable shards while reading the index in order (DISTINCT made MariaDB fill a
 * temporary table). First a probe for the cap-th product (skipped over, nothing materialised: about
 * two thirds of the cost of the count on 1M products); only below the cap the exact count.
 */
async function countInStock(db: Kysely<DB>, cap: number): Promise<number> {
  const sellable = sql`FROM stock_shards FORCE INDEX (idx_stock_shards_sellable) WHERE sellable = 1 GROUP BY product_id`;
  const probe = await sql`SELECT product_id ${sellable} LIMIT 1 OFFSET ${cap - 1}`.execute(db);
  if (probe.rows.length > 0) return cap;
  const res = await sql<{ n: number | string }>`
    SELECT COUNT(*) AS n FROM (SELECT product_id ${sellable} LIMIT ${cap}) c`.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}
