import type { Kysely } from 'kysely';
import { withTransaction } from '../db/transaction';
import type { DB } from '../db/types';
import { PreconditionFailedError, ProductNameTakenError, ProductNotFoundError } from '../errors';
import { toCents } from '../money';
import { DEFAULT_PER_PAGE } from '../paging';
import { recordMovements } from '../stock/ledger';
import { distribute, lockProductShards, replaceShards, type ShardTotal, shardTotals } from '../stock/shards';
import { encodeCursor, type Sort, specDigest } from './cursor';
import { type ProductRecord, productVersion, toProduct } from './present';
import { movePriceCounts } from './price-counts';
import {
  addToLiveProductCount,
  archiveLiveProduct,
  findLiveProduct,
  insertProducts,
  isLiveNameConflict,
  type ListedProduct,
  type ListFilter,
  type SearchDriver,
  listMatching,
  liveProductCount,
  countMatching,
  sortColumnOf,
  legacyStock,
  lockLiveProduct,
  updateProductRow,
} from './repository';
import {
  type CreateProductInput,
  type ListProductsQuery,
  listSpecOf,
  type Product,
  type ProductList,
  type UpdateProductInput,
} from './schema';
import { nameKeyOf, searchPlanOf } from './search';
import { removeSearchTerms, renameSearchTerms } from './search-index';

/**
 * The catalogue's rules. Every function takes the database first (the writer for changes,
 * readDb() is fine for reads). Timestamps come from the program, never from column defaults.
 * Writes run in withTransaction, which re-runs them on a deadlock or lock-wait timeout.
 */

/**
 * Inserts the product, its stock spread over `stock_shards` rows, its `created` stock movement and
 * the live count in one transaction.
 */
export async function createProduct(database: Kysely<DB>, input: CreateProductInput): Promise<Product> {
  const now = new Date();
  const shards = input.stock_shards ?? 1;
  const row = {
    name: input.name,
    description: input.description,
    price_cents: toCents(input.price),
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  try {
    const id = await withTransaction(database, async (trx) => {
      // The unique index on live names decides a race between two creates of one name: no SELECT first.
      const [newId] = await insertProducts(trx, [{ ...row, stock: input.stock, stock_shards: shards }]);
      return newId as number;
    });
    return toProduct({ id, ...row }, { stock: input.stock, stock_shards: shards });
  } catch (err) {
    if (isLiveNameConflict(err)) throw new ProductNameTakenError(input.name);
    throw err;
  }
}

const NO_SHARDS: ShardTotal = { stock: 0, stock_shards: 0 };

export async function getProduct(database: Kysely<DB>, id: number): Promise<Product> {
  const row = await findLiveProduct(database, id);
  if (!row) throw new ProductNotFoundError(id);
  const totals = await shardTotals(database, [id]);
  return toProduct(row, totals.get(id) ?? NO_SHARDS);
}

/** With filters, `total` is exact up to this many matches; past it the list says so. */
export const EXACT_TOTAL_CAP = 10_000;

/**
 * One page of live products, filtered and sorted as asked, by `page` (offset) or by `cursor`
 * (keyset, constant time at any depth). One row more than the page is read to know whether a
 * next_cursor is due.
 * `total`: without filters, the maintained counter (exact, O(1)); with filters, a count that stops
 * after EXACT_TOTAL_CAP + 1 matches, so no request counts the whole catalogue.
 */
export async function listProducts(database: Kysely<DB>, query: ListProductsQuery): Promise<ProductList> {
  const perPage = query.per_page ?? DEFAULT_PER_PAGE;
  const spec = listSpecOf(query);
  const cursor = query.cursor;
  const page = query.page ?? 1;
  const position = cursor ? cursor.position : (page - 1) * perPage;
  const search = spec.q === undefined ? undefined : searchPlanOf(spec.q);
  const filter: ListFilter = {
    search,
    minPriceCents: spec.minPriceCents,
    maxPriceCents: spec.maxPriceCents,
    inStock: spec.inStock,
  };
  const filtered =
    search !== undefined ||
    filter.minPriceCents !== undefined ||
    filter.maxPriceCents !== undefined ||
    filter.inStock !== undefined;
  const window = {
    sort: spec.sort,
    limit: perPage + 1,
    ...(cursor ? { after: { key: cursor.key, id: cursor.after } } : { offset: position }),
  };

  let counted: Promise<number>;
  let rowsOf: (total: number) => Promise<ListedProduct[]>;
  if (search?.matchesNothing) {
    counted = Promise.resolve(0);
    rowsOf = async () => [];
  } else if (!filtered) {
    counted = liveProductCount(database);
    rowsOf = () => listMatching(database, filter, window);
  } else {
    counted = countMatching(database, filter, EXACT_TOTAL_CAP + 1);
    // The live count, read beside the match count when a plan or a deep page needs it.
    const live = (search && spec.sort !== 'id') || position > 0 ? liveProductCount(database) : undefined;
    rowsOf = async (count) => {
      let driver: SearchDriver = 'terms';
      if (search && spec.sort !== 'id') {
        // Sorted by something other than id: walking the sort's index and checking each product's
        // terms reads about limit × live / matches rows; reading every match and sorting reads
        // `matches`. The cheaper one wins (about 4,700 matches on 1,000,000 products at 10 a page).
        if (count * count > 2 * (perPage + 1) * (await (live ?? liveProductCount(database)))) driver = 'sort';
      }
      // Past the whole catalogue no filter can have a row, however many matches there are.
      if (!cursor && position > 0 && position >= (await (live ?? liveProductCount(database)))) return [];
      return listMatching(database, filter, { ...window, driver });
    };
  }
  // The count decides the plan of a sorted search and whether an offset page can hold any row.
  const needsCountFirst = (search !== undefined && spec.sort !== 'id') || (!cursor && position > 0);
  // The page's stock in one aggregate query over its ids (not one query per product), sent as soon
  // as the page is known: beside a filtered count still running, it adds no time.
  const withStock = async (matched: ListedProduct[]) => {
    const totals = await shardTotals(
      database,
      matched.slice(0, perPage).map((r) => Number(r.id)),
    );
    return { rows: matched, totals };
  };
  let count: number;
  let found: { rows: ListedProduct[]; totals: Map<number, ShardTotal> };
  if (needsCountFirst) {
    count = await counted;
    const exact = filtered ? count <= EXACT_TOTAL_CAP : true;
    found = await withStock(exact && !cursor && position >= count ? [] : await rowsOf(count));
  } else {
    [found, count] = await Promise.all([rowsOf(0).then(withStock), counted]);
  }
  const { rows, totals } = found;
  const exact = !filtered || count <= EXACT_TOTAL_CAP;
  const total = exact ? count : EXACT_TOTAL_CAP;
  const listed = rows.slice(0, perPage);
  const last = listed.at(-1);
  const more = rows.length > perPage && last !== undefined;
  return {
    products: listed.map((r) => toProduct(r, totals.get(Number(r.id)) ?? NO_SHARDS)),
    total,
    total_is_exact: exact,
    current_page: cursor ? Math.floor(position / perPage) + 1 : page,
    per_page: perPage,
    total_pages: Math.ceil(total / perPage),
    next_cursor: more
      ? encodeCursor({
          sort: spec.sort,
          filters: specDigest(spec),
          ...cursorKeyOf(spec.sort, last),
          after: Number(last.id),
          position: position + listed.length,
        })
      : null,
  };
}

/** The sort value a cursor records for the last row of a page. */
function cursorKeyOf(sort: Sort, row: ListedProduct): { key?: number | string } {
  const { column } = sortColumnOf(sort);
  if (column === 'id') return {};
  if (column === 'price_cents') return { key: Number(row.price_cents) };
  if (column === 'created_at') return { key: row.created_at.getTime() };
  return { key: row.name_key };
}

/**
 * The versions (productVersion) an update expects the product to have: `'*'` for any live
 * product. The HTTP layer makes it from If-Match.
 */
export type ExpectedVersion = '*' | readonly string[];

/**
 * Applies a partial update under a row lock. `expected` (optional) must contain the version of
 * the current product, compared under that lock, or nothing is written (precondition_failed).
 * A stock change is recorded as an `adjusted` movement of the signed difference. Locks in the
 * global order: the products row, then its shards ascending. `stock` sets the total and spreads
 * it evenly over the shards; `stock_shards` changes their count and spreads the same total
 * (exactly) over the new ones.
 */
export async function updateProduct(
  database: Kysely<DB>,
  id: number,
  patch: UpdateProductInput,
  expected?: ExpectedVersion,
): Promise<Product> {
  const now = new Date();
  try {
    return await withTransaction(database, async (trx) => {
      const current = await lockLiveProduct(trx, id);
      if (!current) throw new ProductNotFoundError(id);
      const shards = await lockProductShards(trx, id);
      const before: ShardTotal = {
        // No shards only while migration 2026_11_29_0003 is still copying: the stock is then the
        // legacy column, so that the `adjusted` movement stays the true difference.
        stock: shards.length > 0 ? shards.reduce((sum, s) => sum + s.stock, 0) : await legacyStock(trx, id),
        stock_shards: shards.length,
      };
      const version = productVersion(toProduct(current, before));
      if (expected !== undefined && expected !== '*' && !expected.includes(version)) {
        throw new PreconditionFailedError();
      }
      // Strictly later than the version it replaces, whatever this instance's clock says: an order
      // compares updated_at across its unlocked read and its lock to know its stock rows are still
      // the ones it read (lib/orders/service.ts), and a re-shard replaces them.
      const updatedAt = now > current.updated_at ? now : new Date(current.updated_at.getTime() + 1);
      const next: ProductRecord = {
        ...current,
        name: patch.name ?? current.name,
        description: patch.description ?? current.description,
        price_cents: patch.price === undefined ? current.price_cents : toCents(patch.price),
        updated_at: updatedAt,
      };
      const renamed = next.name !== current.name;
      const after: ShardTotal = {
        stock: patch.stock ?? before.stock,
        stock_shards: patch.stock_shards ?? Math.max(before.stock_shards, 1),
      };
      await updateProductRow(trx, id, {
        name: next.name,
        ...(renamed ? { name_key: nameKeyOf(next.name) } : {}),
        description: next.description,
        price_cents: next.price_cents,
        updated_at: updatedAt,
      });
      if (renamed) await renameSearchTerms(trx, id, current.name, next.name);
      if (next.price_cents !== current.price_cents) {
        await movePriceCounts(trx, [
          { priceCents: Number(current.price_cents), delta: -1 },
          { priceCents: next.price_cents, delta: 1 },
        ]);
      }
      if (patch.stock !== undefined || patch.stock_shards !== undefined) {
        await replaceShards(trx, id, distribute(after.stock, after.stock_shards), shards.length > 0);
      }
      await recordMovements(trx, [{ productId: id, delta: after.stock - before.stock, reason: 'adjusted' }], now);
      return toProduct(next, after);
    });
  } catch (err) {
    if (isLiveNameConflict(err)) throw new ProductNameTakenError(patch.name ?? '');
    throw err;
  }
}

/** Archives a live product (it stays on past orders) and lowers the live count; 404 otherwise. */
export async function archiveProduct(database: Kysely<DB>, id: number): Promise<void> {
  const now = new Date();
  await withTransaction(database, async (trx) => {
    const archived = await archiveLiveProduct(trx, id, now);
    if (archived === undefined) throw new ProductNotFoundError(id);
    // Archived products are never listed: their terms go, so a search count needs no products row,
    // and they leave the price histogram.
    await removeSearchTerms(trx, id, archived.name);
    await movePriceCounts(trx, [{ priceCents: archived.price_cents, delta: -1 }]);
    await addToLiveProductCount(trx, -1);
  });
}
