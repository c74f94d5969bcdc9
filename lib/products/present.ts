import type { ProductRow } from '../db/types';
import { contentDigest } from '../digest';
import { fromCents } from '../money';
import type { ShardTotal } from '../stock/shards';
import type { Product } from './schema';

/** The columns a product response needs (never `live_name` or `name_key`, index helpers). */
export type ProductRecord = Omit<ProductRow, 'live_name' | 'name_key'>;

/**
 * A database row as the API shows it: price from cents, times as RFC 3339 UTC with milliseconds,
 * `stock` the sum of its shards and `stock_shards` their count (lib/stock/shards.ts).
 */
export function toProduct(row: ProductRecord, shards: ShardTotal): Product {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    price: fromCents(row.price_cents),
    stock: shards.stock,
    stock_shards: shards.stock_shards,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * The version of a product: a digest of its representation, so any change to what a client sees
 * (stock taken by an order included) is a new version. Its HTTP form is the product's ETag, the
 * same one GET /products/{id} sends (cacheableJson digests JSON.stringify of the same object).
 */
export function productVersion(product: Product): string {
  return contentDigest(JSON.stringify(product));
}
