import type { Kysely } from 'kysely';
import { withTransaction } from '../db/transaction';
import type { DB } from '../db/types';
import { PreconditionFailedError, ProductNameTakenError, ProductNotFoundError } from '../errors';
import { toCents } from '../money';
import { DEFAULT_PER_PAGE } from '../paging';
import { recordMovements } from '../stock/ledger';
import { encodeCursor } from './cursor';
import { type ProductRecord, productVersion, toProduct } from './present';
import {
  addToLiveProductCount,
  archiveLiveProduct,
  findLiveProduct,
  insertProducts,
  isLiveNameConflict,
  listLiveAfter,
  listLivePage,
  liveProductCount,
  lockLiveProduct,
  updateProductRow,
} from './repository';
import type { CreateProductInput, ListProductsQuery, Product, ProductList, UpdateProductInput } from './schema';

/**
 * The catalogue's rules. Every function takes the database first (the writer for changes,
 * readDb() is fine for reads). Timestamps come from the program, never from column defaults.
 * Writes run in withTransaction, which re-runs them on a deadlock or lock-wait timeout.
 */

/** Inserts the product, its `created` stock movement and the live count in one transaction. */
export async function createProduct(database: Kysely<DB>, input: CreateProductInput): Promise<Product> {
  const now = new Date();
  const row = {
    name: input.name,
    description: input.description,
    price_cents: toCents(input.price),
    stock: input.stock,
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  try {
    const id = await withTransaction(database, async (trx) => {
      // The unique index on live names decides a race between two creates of one name: no SELECT first.
      const [newId] = await insertProducts(trx, [row]);
      return newId as number;
    });
    return toProduct({ id, ...row });
  } catch (err) {
    if (isLiveNameConflict(err)) throw new ProductNameTakenError(input.name);
    throw err;
  }
}

export async function getProduct(database: Kysely<DB>, id: number): Promise<Product> {
  const row = await findLiveProduct(database, id);
  if (!row) throw new ProductNotFoundError(id);
  return toProduct(row);
}

/**
 * One page of live products by ascending id: by `page` (offset) or by `cursor` (keyset, the fast
 * path for deep pages). One row more than the page is read to know whether a next_cursor is due.
 * `total` is the maintained counter, not a COUNT(*) over the catalogue.
 */
export async function listProducts(database: Kysely<DB>, query: ListProductsQuery): Promise<ProductList> {
  const perPage = query.per_page ?? DEFAULT_PER_PAGE;
  const cursor = query.cursor;
  const page = query.page ?? 1;
  const position = cursor ? cursor.position : (page - 1) * perPage;
  const listed = () =>
    cursor ? listLiveAfter(database, cursor.after, perPage + 1) : listLivePage(database, position, perPage + 1);
  let rows: ProductRecord[];
  let total: number;
  if (cursor || position === 0) {
    [rows, total] = await Promise.all([listed(), liveProductCount(database)]);
  } else {
    // An offset page: the maintained total first, so a page past the end runs no OFFSET scan.
    total = await liveProductCount(database);
    rows = position >= total ? [] : await listed();
  }
  const products = rows.slice(0, perPage).map(toProduct);
  const last = products.at(-1);
  const more = rows.length > perPage && last !== undefined;
  return {
    products,
    total,
    current_page: cursor ? Math.floor(position / perPage) + 1 : page,
    per_page: perPage,
    total_pages: Math.ceil(total / perPage),
    next_cursor: more ? encodeCursor({ after: last.id, position: position + products.length }) : null,
  };
}

/**
 * The versions (productVersion) an update expects the product to have: `'*'` for any live
 * product. The HTTP layer makes it from If-Match.
 */
export type ExpectedVersion = '*' | readonly string[];

/**
 * Applies a partial update under a row lock. `expected` (optional) must contain the version of
 * the current product, compared under that lock, or nothing is written (precondition_failed).
 * A stock change is recorded as an `adjusted` movement of the signed difference.
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
      if (expected !== undefined && expected !== '*' && !expected.includes(productVersion(toProduct(current)))) {
        throw new PreconditionFailedError();
      }
      const next: ProductRecord = {
        ...current,
        name: patch.name ?? current.name,
        description: patch.description ?? current.description,
        price_cents: patch.price === undefined ? current.price_cents : toCents(patch.price),
        stock: patch.stock ?? current.stock,
        updated_at: now,
      };
      await updateProductRow(trx, id, {
        name: next.name,
        description: next.description,
        price_cents: next.price_cents,
        stock: next.stock,
        updated_at: now,
      });
      await recordMovements(trx, [{ productId: id, delta: next.stock - current.stock, reason: 'adjusted' }], now);
      return toProduct(next);
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
    if (!(await archiveLiveProduct(trx, id, now))) throw new ProductNotFoundError(id);
    await addToLiveProductCount(trx, -1);
  });
}
