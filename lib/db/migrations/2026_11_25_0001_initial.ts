import { type Kysely, sql } from 'kysely';

/*
 * SQL that runs on MySQL 8.0+ and MariaDB 10.11. Money is integer cents; stock is UNSIGNED with a
 * CHECK so that no bug can drive it below zero. Names of live products are unique through a
 * generated column (NULL once archived; MySQL has no partial index). Names compare byte-exact
 * (utf8mb4_bin): `Tea 🍵` and `Tea 🍺` are different products, which *_unicode_ci would not see.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE products (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      description VARCHAR(2000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      price_cents BIGINT UNSIGNED NOT NULL,
      stock INT UNSIGNED NOT NULL,
      archived_at DATETIME(3) NULL,
      live_name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
        GENERATED ALWAYS AS (CASE WHEN archived_at IS NULL THEN name END) STORED,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_products_live_name (live_name),
      KEY idx_products_archived_id (archived_at, id),
      CONSTRAINT chk_products_price CHECK (price_cents > 0 AND price_cents <= 9999999999),
      CONSTRAINT chk_products_stock CHECK (stock >= 0)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  await sql`
    CREATE TABLE orders (
      id CHAR(30) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      status ENUM('confirmed', 'cancelled') NOT NULL,
      total_cents BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      cancelled_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_orders_seq (seq)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  await sql`
    CREATE TABLE order_lines (
      order_id CHAR(30) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      product_id BIGINT UNSIGNED NOT NULL,
      line_no SMALLINT UNSIGNED NOT NULL,
      name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      quantity INT UNSIGNED NOT NULL,
      unit_price_cents BIGINT UNSIGNED NOT NULL,
      line_total_cents BIGINT UNSIGNED NOT NULL,
      PRIMARY KEY (order_id, product_id),
      KEY idx_order_lines_product (product_id),
      CONSTRAINT fk_order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
      CONSTRAINT fk_order_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
      CONSTRAINT chk_order_lines_quantity CHECK (quantity > 0)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  await sql`
    CREATE TABLE idempotency_keys (
      idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      status_code SMALLINT UNSIGNED NOT NULL,
      response_body MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      location VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
      order_id CHAR(30) CHARACTER SET ascii COLLATE ascii_bin NULL,
      created_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      PRIMARY KEY (idem_key),
      KEY idx_idempotency_keys_expires (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  await sql`
    CREATE TABLE stock_movements (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      product_id BIGINT UNSIGNED NOT NULL,
      delta BIGINT NOT NULL,
      reason ENUM('created', 'adjusted', 'order', 'cancel') NOT NULL,
      order_id CHAR(30) CHARACTER SET ascii COLLATE ascii_bin NULL,
      created_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      KEY idx_stock_movements_product (product_id),
      KEY idx_stock_movements_order (order_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  // Maintained counters (e.g. live_products), updated in the same transaction as the rows they
  // count, so `total` on GET /products is exact without COUNT(*) over the whole catalogue.
  await sql`
    CREATE TABLE counters (
      name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      value BIGINT NOT NULL,
      PRIMARY KEY (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);
  await sql`INSERT INTO counters (name, value) VALUES ('live_products', 0)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
