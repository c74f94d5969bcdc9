import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** The schema, described once (see lib/db/migrations). Money is integer cents. */

export interface ProductsTable {
  id: Generated<number>;
  name: string;
  description: string;
  price_cents: number;
  // products.stock (legacy) is unused since migration 2026_11_29_0003: the stock is in stock_shards.
  archived_at: Date | null;
  /** Generated: `name` while live, NULL once archived; carries the unique index. */
  live_name: ColumnType<string | null, never, never>;
  /**
   * The name normalised for search and `sort=name` (lib/products/search.ts nameKeyOf). Optional on
   * insert only for tests that write raw rows; every real writer goes through search-index.ts.
   */
  name_key: ColumnType<string, string | undefined, string>;
  created_at: Date;
  updated_at: Date;
}

export type OrderStatus = 'confirmed' | 'cancelled';

export interface OrdersTable {
  id: string;
  seq: Generated<number>;
  status: OrderStatus;
  total_cents: number;
  created_at: Date;
  cancelled_at: Date | null;
}

export interface OrderLinesTable {
  order_id: string;
  product_id: number;
  line_no: number;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
}

export interface IdempotencyKeysTable {
  idem_key: string;
  request_hash: string;
  /** 0 while the first request is in flight (only visible inside its own transaction). */
  status_code: number;
  response_body: string;
  location: string | null;
  order_id: string | null;
  created_at: Date;
  expires_at: Date;
}

export type StockMovementReason = 'created' | 'adjusted' | 'order' | 'cancel';

export interface StockMovementsTable {
  id: Generated<number>;
  product_id: number;
  delta: number;
  reason: StockMovementReason;
  order_id: string | null;
  created_at: Date;
}

/** One row per index term of a live product's name (lib/products/search.ts termsOf). */
export interface ProductSearchTermsTable {
  term: string;
  product_id: number;
}

/**
 * A product's stock in 1–64 rows numbered 0…n−1: the stock is their sum, n their count
 * (docs/decisions/0012-stock-shards.md). Concurrent orders for one product lock different rows.
 */
export interface StockShardsTable {
  product_id: number;
  shard_no: number;
  stock: number;
  /**
   * 1 while the product is live, 0 once archived (a mirror of `products.archived_at IS NULL`,
   * written in the transaction that archives it). Default 1 on insert.
   */
  live: ColumnType<number, number | undefined, number>;
  /** Generated (VIRTUAL): live AND stock > 0; indexed with product_id for `in_stock=true` counts. */
  sellable: ColumnType<number | null, never, never>;
}

/** How many rows product_search_terms has for each term: its live products (only rows ≥ 1 exist). */
export interface ProductSearchTermCountsTable {
  term: string;
  products: number;
}

/**
 * Live products per price bucket (lib/products/price-counts.ts): width_cents 1 is one row per
 * price, 100 one per whole currency unit (bucket = price_cents DIV width_cents). Only rows with
 * products ≥ 1 exist.
 */
export interface ProductPriceCountsTable {
  width_cents: number;
  bucket: number;
  products: number;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface DB {
  products: ProductsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  idempotency_keys: IdempotencyKeysTable;
  stock_movements: StockMovementsTable;
  stock_shards: StockShardsTable;
  counters: CountersTable;
  product_search_terms: ProductSearchTermsTable;
  product_price_counts: ProductPriceCountsTable;
  product_search_term_counts: ProductSearchTermCountsTable;
}

export type ProductRow = Selectable<ProductsTable>;
export type NewProductRow = Insertable<ProductsTable>;
export type ProductUpdate = Updateable<ProductsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type OrderLineRow = Selectable<OrderLinesTable>;
