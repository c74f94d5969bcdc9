import type { Migration } from 'kysely';
import * as initial from './2026_11_25_0001_initial';
import * as orderLinesWithoutProductFk from './2026_11_29_0001_order_lines_without_product_fk';
import * as catalogueSearch from './2026_11_29_0002_catalogue_search';
import * as stockShards from './2026_11_29_0003_stock_shards';
import * as inStockIndex from './2026_11_30_0001_in_stock_index';
import * as priceCounts from './2026_11_30_0002_price_counts';
import * as searchTermCounts from './2026_11_30_0003_search_term_counts';

/**
 * Every migration, by name (names sort in the order they apply). A static list rather than
 * FileMigrationProvider so the migrations are bundled into the Lambda that runs them.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_25_0001_initial': initial,
  '2026_11_29_0001_order_lines_without_product_fk': orderLinesWithoutProductFk,
  '2026_11_29_0002_catalogue_search': catalogueSearch,
  '2026_11_29_0003_stock_shards': stockShards,
  '2026_11_30_0001_in_stock_index': inStockIndex,
  '2026_11_30_0002_price_counts': priceCounts,
  '2026_11_30_0003_search_term_counts': searchTermCounts,
};
