import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDb } from '../../lib/db/client';
import { migrateToLatest } from '../../lib/db/migrate';
import type { DB } from '../../lib/db/types';
import { movePriceCounts, pricesAdded } from '../../lib/products/price-counts';
import { checkInvariants, type InvariantName } from '../../scripts/lib/invariants';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';

/*
 * Each test gets its own throwaway database (the checks look at whole tables, so a corruption must
 * not leak into the run's shared database), filled with a small consistent shop, then corrupts it.
 */
const serverUrl = serverUrlOf(inject('databaseUrl'));
const created: string[] = [];
const open: Kysely<DB>[] = [];

async function freshDatabase(): Promise<{ url: string; db: Kysely<DB> }> {
  const name = `shop_inv_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await createDatabase(serverUrl, name);
  created.push(name);
  const url = withDatabase(serverUrl, name);
  await migrateToLatest(url);
  const db = createDb(url, { poolSize: 2 });
  open.push(db);
  return { url, db };
}

/** A consistent shop: 3 products, a confirmed and a cancelled order, ledger and counter to match. */
async function seedConsistentShop(
  db: Kysely<DB>,
): Promise<{ products: number[]; confirmed: string; cancelled: string }> {
  const at = new Date('2026-11-25T10:00:00.000Z');
  const products: number[] = [];
  for (const [i, stock] of [10, 5, 0].entries()) {
    const res = await db
      .insertInto('products')
      .values({ name: `P${i}`, description: '', price_cents: 250 * (i + 1), created_at: at, updated_at: at })
      .executeTakeFirstOrThrow();
    const id = Number(res.insertId);
    products.push(id);
    await db.insertInto('stock_shards').values({ product_id: id, shard_no: 0, stock }).execute();
    if (stock > 0)
      await db
        .insertInto('stock_movements')
        .values({ product_id: id, delta: stock, reason: 'created', order_id: null, created_at: at })
        .execute();
  }
  await db.updateTable('counters').set({ value: 3 }).where('name', '=', 'live_products').execute();
  await movePriceCounts(db, pricesAdded([250, 500, 750]));
  const [p0, p1, p2] = products as [number, number, number];
  // P2 was created with 4, then adjusted to 3, then ordered empty.
  await db
    .insertInto('stock_movements')
    .values([
      { product_id: p2, delta: 4, reason: 'created', order_id: null, created_at: at },
      { product_id: p2, delta: -1, reason: 'adjusted', order_id: null, created_at: at },
    ])
    .execute();

  const order = async (id: string, status: 'confirmed' | 'cancelled', lines: Array<[number, number, number]>) => {
    const total = lines.reduce((s, [, q, price]) => s + q * price, 0);
    await db
      .insertInto('orders')
      .values({ id, status, total_cents: total, created_at: at, cancelled_at: status === 'cancelled' ? at : null })
      .execute();
    await db
      .insertInto('order_lines')
      .values(
        lines.map(([pid, q, price], i) => ({
          order_id: id,
          product_id: pid,
          line_no: i + 1,
          name: `P`,
          quantity: q,
          unit_price_cents: price,
          line_total_cents: q * price,
        })),
      )
      .execute();
    for (const [pid, q] of lines) {
      await db
        .insertInto('stock_movements')
        .values({ product_id: pid, delta: -q, reason: 'order', order_id: id, created_at: at })
        .execute();
      if (status === 'cancelled')
        await db
          .insertInto('stock_movements')
          .values({ product_id: pid, delta: q, reason: 'cancel', order_id: id, created_at: at })
          .execute();
    }
  };
  const confirmed = `ord_${'a'.repeat(26)}`;
  const cancelled = `ord_${'b'.repeat(26)}`;
  await order(confirmed, 'confirmed', [
    [p0, 2, 250],
    [p2, 3, 750],
  ]);
  await order(cancelled, 'cancelled', [
    [p0, 1, 250],
    [p1, 5, 500],
  ]);
  await db
    .updateTable('stock_shards')
    .set({ stock: sql`CASE product_id WHEN ${p0} THEN 8 WHEN ${p1} THEN 5 ELSE 0 END` })
    .execute();
  await db
    .insertInto('idempotency_keys')
    .values({
      idem_key: 'key-1',
      request_hash: 'f'.repeat(64),
      status_code: 201,
      response_body: '{}',
      location: `/orders/${confirmed}`,
      order_id: confirmed,
      created_at: at,
      expires_at: at,
    })
    .execute();
  return { products, confirmed, cancelled };
}

function runScript(url: string): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-invariants.ts'], {
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

afterAll(async () => {
  await Promise.all(open.map((d) => d.destroy()));
  for (const name of created) await dropDatabase(serverUrl, name);
});

describe('checkInvariants', () => {
  let clean: { url: string; db: Kysely<DB> };
  beforeAll(async () => {
    clean = await freshDatabase();
    await seedConsistentShop(clean.db);
  });

  it('passes on an empty migrated database and on a consistent shop', async () => {
    const empty = await freshDatabase();
    expect((await checkInvariants(empty.db)).violations).toEqual([]);
    const report = await checkInvariants(clean.db);
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({ products: 3, orders: 2, orderLines: 4, movements: 10 });
  });

  const corruptions: Array<{
    name: string;
    invariant: InvariantName;
    subject: (s: Awaited<ReturnType<typeof seedConsistentShop>>) => string;
    corrupt: (db: Kysely<DB>, s: Awaited<ReturnType<typeof seedConsistentShop>>) => Promise<void>;
    expected?: RegExp;
    actual?: RegExp;
  }> = [
    {
      name: 'a stock changed without a ledger movement',
      invariant: 'stock_equals_ledger',
      subject: (s) => `product ${s.products[1]}`,
      corrupt: async (db, s) => {
        await db.updateTable('stock_shards').set({ stock: 7 }).where('product_id', '=', s.products[1]!).execute();
      },
      expected: /^stock 5 \(ledger: created 5, adjusted 0, ordered -5, cancelled 5\)$/,
      actual: /^stock 7 \(Σ shards\)$/,
    },
    {
      name: 'a movement for a product that does not exist',
      invariant: 'ledger_without_product',
      subject: () => 'product 999999',
      corrupt: async (db) => {
        await db
          .insertInto('stock_movements')
          .values({ product_id: 999999, delta: 3, reason: 'created', order_id: null, created_at: new Date() })
          .execute();
      },
    },
    {
      // No foreign key stops this since 2026_11_29_0001: the check is what keeps the reference true.
      name: 'an order line for a product that does not exist',
      invariant: 'line_without_product',
      subject: () => 'product 999998',
      corrupt: async (db, s) => {
        await db
          .updateTable('order_lines')
          .set({ product_id: 999998 })
          .where('order_id', '=', s.confirmed)
          .where('product_id', '=', s.products[0]!)
          .execute();
      },
      actual: /^1 order line\(s\)/,
    },
    {
      name: 'a negative stock (once the schema lost its UNSIGNED and CHECK)',
      invariant: 'negative_stock',
      subject: (s) => `product ${s.products[2]} shard 0`,
      corrupt: async (db, s) => {
        await sql`ALTER TABLE stock_shards DROP CONSTRAINT chk_stock_shards_stock`.execute(db);
        await sql`ALTER TABLE stock_shards MODIFY stock INT NOT NULL`.execute(db);
        await db.updateTable('stock_shards').set({ stock: -2 }).where('product_id', '=', s.products[2]!).execute();
      },
      actual: /^stock -2$/,
    },
    {
      name: 'a product without shards',
      invariant: 'shard_count',
      subject: (s) => `product ${s.products[2]}`,
      corrupt: async (db, s) => {
        await db.deleteFrom('stock_shards').where('product_id', '=', s.products[2]!).execute();
      },
      expected: /^1–64 shards numbered 0…n−1$/,
      actual: /^no shards$/,
    },
    {
      name: 'shards numbered with a gap (no shard 0)',
      invariant: 'shard_count',
      subject: (s) => `product ${s.products[2]}`,
      corrupt: async (db, s) => {
        await db.updateTable('stock_shards').set({ shard_no: 5 }).where('product_id', '=', s.products[2]!).execute();
      },
      actual: /^1 shard\(s\), highest number 5$/,
    },
    {
      name: 'a shard of a live product marked archived',
      invariant: 'shard_live',
      subject: (s) => `product ${s.products[0]}`,
      corrupt: async (db, s) => {
        await db.updateTable('stock_shards').set({ live: 0 }).where('product_id', '=', s.products[0]!).execute();
      },
      expected: /^live 1 on every shard \(the product is live\)$/,
      actual: /^live 0 on 1 of 1 shard\(s\)$/,
    },
    {
      // What an archive that forgot the shards would leave: the in_stock=true count would include it.
      name: 'a product archived while its shards still say live',
      invariant: 'shard_live',
      subject: (s) => `product ${s.products[1]}`,
      corrupt: async (db, s) => {
        await db.updateTable('products').set({ archived_at: new Date() }).where('id', '=', s.products[1]!).execute();
        await db.updateTable('counters').set({ value: 2 }).where('name', '=', 'live_products').execute();
      },
      expected: /^live 0 on every shard \(the product is archived\)$/,
      actual: /^live 1 on 1 of 1 shard\(s\)$/,
    },
    {
      name: 'a line total that is not quantity × unit price',
      invariant: 'line_total',
      subject: (s) => `order ${s.confirmed} product ${s.products[0]}`,
      corrupt: async (db, s) => {
        await db
          .updateTable('order_lines')
          .set({ line_total_cents: 499 })
          .where('order_id', '=', s.confirmed)
          .where('product_id', '=', s.products[0]!)
          .execute();
      },
      expected: /500 \(2 × 250\)/,
      actual: /499/,
    },
    {
      name: 'an order total that is not the sum of its lines',
      invariant: 'order_total',
      subject: (s) => `order ${s.cancelled}`,
      corrupt: async (db, s) => {
        await db.updateTable('orders').set({ total_cents: 1 }).where('id', '=', s.cancelled).execute();
      },
      expected: /2750/,
      actual: /total_cents 1$/,
    },
    {
      name: 'an order without lines',
      invariant: 'order_without_lines',
      subject: () => `order ord_${'c'.repeat(26)}`,
      corrupt: async (db) => {
        await db
          .insertInto('orders')
          .values({
            id: `ord_${'c'.repeat(26)}`,
            status: 'confirmed',
            total_cents: 0,
            created_at: new Date(),
            cancelled_at: null,
          })
          .execute();
      },
    },
    {
      name: 'a cancelled order whose stock was restored twice',
      invariant: 'order_ledger',
      subject: (s) => `order ${s.cancelled} product ${s.products[1]}`,
      corrupt: async (db, s) => {
        await db
          .insertInto('stock_movements')
          .values({
            product_id: s.products[1]!,
            delta: 5,
            reason: 'cancel',
            order_id: s.cancelled,
            created_at: new Date(),
          })
          .execute();
        await db.updateTable('stock_shards').set({ stock: 10 }).where('product_id', '=', s.products[1]!).execute();
      },
      expected: /ordered -5, cancelled 5/,
      actual: /ordered -5, cancelled 10/,
    },
    {
      name: 'an order movement with the wrong sign',
      invariant: 'movement_sign',
      subject: () => 'movement',
      corrupt: async (db, s) => {
        await db
          .updateTable('stock_movements')
          .set({ delta: 2 })
          .where('order_id', '=', s.confirmed)
          .where('product_id', '=', s.products[0]!)
          .execute();
      },
    },
    {
      name: 'an idempotency key pointing at a missing order',
      invariant: 'idempotency_key_without_order',
      subject: () => 'idempotency key "key-2"',
      corrupt: async (db) => {
        const at = new Date();
        await db
          .insertInto('idempotency_keys')
          .values({
            idem_key: 'key-2',
            request_hash: '0'.repeat(64),
            status_code: 201,
            response_body: '{}',
            location: null,
            order_id: `ord_${'d'.repeat(26)}`,
            created_at: at,
            expires_at: at,
          })
          .execute();
      },
    },
    {
      name: 'a live-products counter that drifted',
      invariant: 'live_products_counter',
      subject: () => 'counter live_products',
      corrupt: async (db) => {
        await db.updateTable('counters').set({ value: 4 }).where('name', '=', 'live_products').execute();
      },
      expected: /^3 /,
      actual: /^4$/,
    },
    {
      // A re-price behind the service's back: the histogram still counts the old price.
      name: 'a product re-priced without moving the price histogram',
      invariant: 'price_counts',
      subject: () => 'price_counts width 1 bucket 500',
      corrupt: async (db, s) => {
        await db.updateTable('products').set({ price_cents: 501 }).where('id', '=', s.products[1]!).execute();
      },
      expected: /^no row \(no live product\)$/,
      actual: /^1$/,
    },
    {
      name: 'a price histogram row off by one',
      invariant: 'price_counts',
      subject: () => 'price_counts width 100 bucket 7',
      corrupt: async (db) => {
        await db
          .updateTable('product_price_counts')
          .set({ products: 2 })
          .where('width_cents', '=', 100)
          .where('bucket', '=', 7)
          .execute();
      },
      expected: /^1 \(live products\)$/,
      actual: /^2$/,
    },
    {
      // Rows at 0 would make a bounded read of `cap` rows prove nothing: they are deleted.
      name: 'a price histogram row left at 0',
      invariant: 'price_counts',
      subject: () => 'price_counts width 1 bucket 999',
      corrupt: async (db) => {
        await db.insertInto('product_price_counts').values({ width_cents: 1, bucket: 999, products: 0 }).execute();
      },
      actual: /^0$/,
    },
    {
      // A term written behind the service's back: its count row is missing.
      name: 'a search term without its count',
      invariant: 'term_counts',
      subject: () => 'term "p"',
      corrupt: async (db, s) => {
        await db.insertInto('product_search_terms').values({ term: 'p', product_id: s.products[0]! }).execute();
      },
      expected: /^1 \(products with the term\)$/,
      actual: /^no count row$/,
    },
    {
      name: 'a term count left behind by a product that lost the term',
      invariant: 'term_counts',
      subject: () => 'term "gone"',
      corrupt: async (db) => {
        await db.insertInto('product_search_term_counts').values({ term: 'gone', products: 1 }).execute();
      },
      expected: /^no count row/,
      actual: /^1$/,
    },
  ];

  for (const c of corruptions) {
    it(`reports ${c.name} as ${c.invariant}, naming it`, async () => {
      const { db } = await freshDatabase();
      const shop = await seedConsistentShop(db);
      await c.corrupt(db, shop);
      const report = await checkInvariants(db);
      expect(report.ok).toBe(false);
      const found = report.violations.filter((v) => v.invariant === c.invariant);
      expect(found.length, JSON.stringify(report.violations)).toBeGreaterThanOrEqual(1);
      const v = found[0]!;
      expect(v.subject.startsWith(c.subject(shop))).toBe(true);
      if (c.expected) expect(v.expected).toMatch(c.expected);
      if (c.actual) expect(v.actual).toMatch(c.actual);
    });
  }

  it('npm run check-invariants prints one OK line and exits 0 on a consistent database', () => {
    const res = runScript(clean.url);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(res.stdout).toMatch(/^OK: all invariants hold .*3 products, 2 orders, 4 order lines, 10 ledger movements/);
  });

  it('npm run check-invariants exits 1 naming each violation with expected and actual values', async () => {
    const { url, db } = await freshDatabase();
    const shop = await seedConsistentShop(db);
    await db.updateTable('stock_shards').set({ stock: 7 }).where('product_id', '=', shop.products[1]!).execute();
    await db.updateTable('orders').set({ total_cents: 1 }).where('id', '=', shop.cancelled).execute();
    const res = runScript(url);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`VIOLATION stock_equals_ledger: product ${shop.products[1]}: expected stock 5`);
    expect(res.stderr).toContain('actual stock 7');
    expect(res.stderr).toContain(`VIOLATION order_total: order ${shop.cancelled}: expected total_cents 2750`);
    expect(res.stderr).toMatch(/FAILED: 2 violation\(s\)/);
  });
});
