import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { db } from '../../lib/db/client';
import type { ProductRow } from '../../lib/db/types';
import { insertProducts } from '../../lib/products/repository';
import { stockAndLedger } from '../../scripts/lib/invariants';

/**
 * Test data straight into the real database, keeping the schema's invariants (ledger row for the
 * initial stock, live-product counter). Every call makes its own uniquely named product, so tests
 * never depend on each other's data or on an empty table.
 */
export interface ProductSeed {
  name?: string;
  description?: string;
  priceCents?: number;
  stock?: number;
  /** Rows the stock is spread over (default 1), as POST /products does. */
  stockShards?: number;
  archived?: boolean;
  createdAt?: Date;
}

export const uniqueName = (prefix = 'Test product'): string => `${prefix} ${randomUUID()}`;

/** A product row as the factory made it, with its total stock and shard count. */
export type MadeProduct = ProductRow & { stock: number; stock_shards: number };

export async function makeProduct(seed: ProductSeed = {}): Promise<MadeProduct> {
  const now = seed.createdAt ?? new Date();
  return db()
    .transaction()
    .execute(async (trx) => {
      const stock = seed.stock ?? 100;
      const shards = seed.stockShards ?? 1;
      const [id] = await insertProducts(trx, [
        {
          name: seed.name ?? uniqueName(),
          description: seed.description ?? '',
          price_cents: seed.priceCents ?? 1999,
          stock,
          stock_shards: shards,
          archived_at: seed.archived ? now : null,
          created_at: now,
          updated_at: now,
        },
      ]);
      const row = await trx
        .selectFrom('products')
        .selectAll()
        .where('id', '=', id as number)
        .executeTakeFirstOrThrow();
      return { ...row, stock, stock_shards: shards };
    });
}

/** The product's stock: Σ of its shards. */
export async function stockOf(productId: number): Promise<number> {
  return (await shardsOf(productId)).reduce((sum, s) => sum + s, 0);
}

/** The product's shards' stock, by shard number. */
export async function shardsOf(productId: number): Promise<number[]> {
  const rows = await db()
    .selectFrom('stock_shards')
    .select(['shard_no', 'stock'])
    .where('product_id', '=', productId)
    .orderBy('shard_no')
    .execute();
  return rows.map((r) => Number(r.stock));
}

/** Sets one shard's stock behind the service's back (tests of broken data). */
export async function setShardStock(productId: number, shardNo: number, stock: number): Promise<void> {
  await db()
    .updateTable('stock_shards')
    .set({ stock })
    .where('product_id', '=', productId)
    .where('shard_no', '=', shardNo)
    .execute();
}

/** Σ of the product's ledger movements (must always equal its stock). */
export async function ledgerSum(productId: number): Promise<number> {
  return (await stockAndLedger(db(), [productId])).get(productId)?.ledger ?? 0;
}

/** Row counts of every table, to assert that a rejected request changed nothing. */
export async function tableCounts(): Promise<Record<string, number>> {
  const tables = ['products', 'stock_shards', 'orders', 'order_lines', 'idempotency_keys', 'stock_movements'] as const;
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await db().selectFrom(t).select(sql<number>`COUNT(*)`.as('n')).executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

/** The maintained `live_products` counter (its row must exist). */
export async function liveCounter(): Promise<number> {
  const r = await db()
    .selectFrom('counters')
    .select('value')
    .where('name', '=', 'live_products')
    .executeTakeFirstOrThrow();
  return Number(r.value);
}
