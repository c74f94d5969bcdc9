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
  archived?: boolean;
  createdAt?: Date;
}

export const uniqueName = (prefix = 'Test product'): string => `${prefix} ${randomUUID()}`;

export async function makeProduct(seed: ProductSeed = {}): Promise<ProductRow> {
  const now = seed.createdAt ?? new Date();
  return db()
    .transaction()
    .execute(async (trx) => {
      const [id] = await insertProducts(trx, [
        {
          name: seed.name ?? uniqueName(),
          description: seed.description ?? '',
          price_cents: seed.priceCents ?? 1999,
          stock: seed.stock ?? 100,
          archived_at: seed.archived ? now : null,
          created_at: now,
          updated_at: now,
        },
      ]);
      return trx
        .selectFrom('products')
        .selectAll()
        .where('id', '=', id as number)
        .executeTakeFirstOrThrow();
    });
}

export async function stockOf(productId: number): Promise<number> {
  const row = await db().selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow();
  return row.stock;
}

/** Σ of the product's ledger movements (must always equal its stock). */
export async function ledgerSum(productId: number): Promise<number> {
  return (await stockAndLedger(db(), [productId])).get(productId)?.ledger ?? 0;
}

/** Row counts of every table, to assert that a rejected request changed nothing. */
export async function tableCounts(): Promise<Record<string, number>> {
  const tables = ['products', 'orders', 'order_lines', 'idempotency_keys', 'stock_movements'] as const;
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
