/**
 * The order transaction takes the product locks last (docs/decisions/0010-order-lock-last.md):
 * everything that needs no lock is written first from an unlocked read, then `SELECT … FOR UPDATE`,
 * the checks, one stock UPDATE and COMMIT. These tests count the round trips that hold the lock
 * from the commands mysql2 really sends, and run the race the design must survive for real: a
 * second session changes a product (price, name, archived, stock) and holds its row lock while
 * the order does its unlocked read and its writes; the order then waits in its FOR UPDATE, the
 * change commits, and the order must end as if it had read the product under the lock.
 */
import { randomUUID } from 'node:crypto';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bindScope, db } from '../../lib/db/client';
import { overrideProcessEnv } from '../../scripts/lib/process-db';
import { InsufficientStockError, UnknownProductError } from '../../lib/errors';
import { newRequestScope } from '../../lib/request-scope';
import { MAX_ORDER_LINES } from '../../lib/orders/schema';
import { cancelOrder, getOrder, placeOrder } from '../../lib/orders/service';
import { ledgerSum, makeProduct, stockOf, tableCounts } from '../support/factories';
import { recordCommands, type SentCommand, statementKind } from '../../scripts/lib/sent-commands';

// A long lock wait, so the order surely still waits while the test sees it waiting; a pool large
// enough for the hot-product race.
let restoreEnv: () => Promise<void>;
beforeAll(async () => {
  restoreEnv = await overrideProcessEnv({ DB_LOCK_WAIT_TIMEOUT_S: '20', DB_POOL_SIZE: '16' });
});
afterAll(() => restoreEnv());

/** The statements of each transaction in the log, from `begin` to `commit`/`rollback`, per connection. */
function transactions(log: readonly SentCommand[]): string[][] {
  const open = new Map<number | null, string[]>();
  const done: string[][] = [];
  for (const c of log) {
    if (c.command !== 'Query') continue;
    const kind = statementKind(c.sql);
    if (kind === 'begin') open.set(c.threadId, []);
    const current = open.get(c.threadId);
    if (!current) continue;
    current.push(kind);
    if (kind === 'commit' || kind === 'rollback' || kind.endsWith(' + commit')) {
      done.push(current);
      open.delete(c.threadId);
    }
  }
  return done;
}

/** The statements from the first one that locks products to COMMIT, inclusive: the round trips under the lock. */
function underLock(statements: readonly string[], lockedBy: string): string[] {
  const from = statements.indexOf(lockedBy);
  expect(from, `no ${lockedBy} in ${statements.join(', ')}`).toBeGreaterThanOrEqual(0);
  return statements.slice(from);
}

const lines = (...ls: Array<[number, number]>) => ls.map(([product_id, quantity]) => ({ product_id, quantity }));

/** The lock tail sent as one query: the shards locked, the stock taken, COMMIT (docs/decisions/0016). */
const LOCK_TAKE_COMMIT = 'select stock_shards for update + update stock_shards + commit';
/** The writes before the lock, sent as one query (DeferredWrites, lib/db/compiled.ts). */
const WRITES = 'insert orders + insert order_lines + insert stock_movements';

describe('round trips while the stock lock is held (counted from the commands mysql2 sends)', () => {
  it('an order: 1 (SELECT … FOR UPDATE, the stock UPDATE and COMMIT in one query); everything else runs before the lock', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const log = await recordCommands(async () => {
      await placeOrder(db(), { products: lines([b.id, 1], [a.id, 2]) });
    });
    const [trx] = transactions(log);
    expect(trx).toEqual(['begin', 'select products', WRITES, 'select products for share', LOCK_TAKE_COMMIT]);
    // The products rows are only share-locked (orders do not wait for each other there); the
    // rows orders compete for are the shards, locked and released within one query.
    expect(underLock(trx ?? [], LOCK_TAKE_COMMIT)).toEqual([LOCK_TAKE_COMMIT]);
  });

  it('an order with an Idempotency-Key, and a 100-line order: still 1, the query under 16 KB', async () => {
    const p = await makeProduct({ stock: 10 });
    const many = await Promise.all(Array.from({ length: MAX_ORDER_LINES }, () => makeProduct({ stock: 5 })));
    const log = await recordCommands(async () => {
      await placeOrder(db(), { products: lines([p.id, 1]), idempotencyKey: randomUUID() });
      await placeOrder(db(), { products: many.map((m) => ({ product_id: m.id, quantity: 2 })) });
    });
    const [keyed, hundred] = transactions(log);
    expect(keyed).toEqual([
      'begin',
      'insert idempotency_keys',
      'select products',
      `${WRITES} + update idempotency_keys`,
      'select products for share',
      LOCK_TAKE_COMMIT,
    ]);
    for (const trx of [keyed, hundred]) expect(underLock(trx ?? [], LOCK_TAKE_COMMIT)).toHaveLength(1);
    const tail = log
      .filter((c) => statementKind(c.sql) === LOCK_TAKE_COMMIT)
      .map((c) => Buffer.byteLength(c.sql ?? ''));
    expect(Math.max(...tail)).toBeLessThan(16 * 1024);
    expect(await stockOf(many[0]?.id ?? 0)).toBe(3);
  });

  it('when a line needs all shards of its product (none alone has enough): 3 (FOR UPDATE, UPDATE, COMMIT)', async () => {
    const spread = await makeProduct({ stock: 8, stockShards: 8 }); // 1 unit per shard
    const log = await recordCommands(async () => {
      await placeOrder(db(), { products: lines([spread.id, 3]) });
    });
    const [trx] = transactions(log);
    expect(underLock(trx ?? [], 'select stock_shards for update')).toEqual([
      'select stock_shards for update',
      'update stock_shards',
      'commit',
    ]);
    expect([await stockOf(spread.id), await ledgerSum(spread.id)]).toEqual([5, 5]);
  });

  it('a product updated since the unlocked read (it may have been re-sharded): 3, checked under the lock', async () => {
    const p = await makeProduct({ stock: 7, stockShards: 4 }); // shards 2, 2, 2, 1: a line of 2 picks 0, 1 or 2
    // Another session re-shards it to one row (as updateProduct does: rows replaced, updated_at
    // later) while the order waits for the products share lock. The picked row may be gone: a
    // one-query tail would then take nothing from it and still commit.
    const race = await raceWithChange(
      async (holder) => {
        await holder.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [p.id]);
        await holder.query('DELETE FROM stock_shards WHERE product_id = ?', [p.id]);
        await holder.query('INSERT INTO stock_shards (product_id, shard_no, stock, live) VALUES (?, 0, 7, 1)', [p.id]);
        await holder.query('UPDATE products SET updated_at = updated_at + INTERVAL 1 SECOND WHERE id = ?', [p.id]);
      },
      () => placeOrder(db(), { products: lines([p.id, 2]) }),
    );
    ordered(race);
    // Never the one-query tail. A picked row that is gone (or short) is "moved": that attempt rolls
    // back and the order runs once more on all rows; either way the last attempt takes in 3.
    const trxs = transactions(race.log);
    expect(trxs.flat()).not.toContain(LOCK_TAKE_COMMIT);
    expect(underLock(trxs.at(-1) ?? [], 'select stock_shards for update')).toEqual([
      'select stock_shards for update',
      'update stock_shards',
      'commit',
    ]);
    for (const t of trxs.slice(0, -1)) expect(t.at(-1)).toBe('rollback');
    expect([await stockOf(p.id), await ledgerSum(p.id)]).toEqual([5, 5]);
  });

  it('a cancel: 2 (the stock UPDATE, which takes the locks itself, and COMMIT)', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const placed = await placeOrder(db(), { products: lines([a.id, 3], [b.id, 4]) });
    const log = await recordCommands(async () => {
      await cancelOrder(db(), placed.order.id);
    });
    const [trx] = transactions(log);
    expect(trx).toEqual([
      'begin',
      'select orders for update',
      'select order_lines',
      'insert stock_movements',
      'update orders',
      'update stock_shards',
      'commit',
    ]);
    expect(underLock(trx ?? [], 'update stock_shards')).toEqual(['update stock_shards', 'commit']);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 10]);
  });
});

interface Race<T> {
  outcome: { ok: true; value: T } | { ok: false; error: unknown };
  /** Rows the order's transaction had written when it was seen waiting for the product lock. */
  rowsWrittenBeforeLock: number;
  log: SentCommand[];
}

/**
 * Runs `order` while another session holds `change` uncommitted on the products: the order's
 * unlocked read cannot see the change, its FOR UPDATE must wait for it. Once the order is seen
 * waiting (INNODB_TRX of its connection says LOCK WAIT), the change commits and the order goes on.
 */
async function raceWithChange<T>(
  change: (holder: Connection) => Promise<void>,
  order: () => Promise<T>,
): Promise<Race<T>> {
  const url = inject('databaseUrl');
  const holder = await createConnection({ uri: url });
  const observer = await createConnection({ uri: url });
  try {
    await holder.beginTransaction();
    await change(holder);
    let race: Omit<Race<T>, 'log'> | undefined;
    const log = await recordCommands(async (sent) => {
      const pending = order().then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const rows = await waitUntilWaitingForLock(observer, sent);
      await holder.commit();
      race = { outcome: await pending, rowsWrittenBeforeLock: rows };
    });
    if (!race) throw new Error('the race did not run');
    return { ...race, log };
  } finally {
    await holder.rollback().catch(() => undefined);
    await holder.end();
    await observer.end();
  }
}

/** Rows the INSERT/UPDATE/DELETE statements of `thread` wrote, up to (not including) the first locking read. */
function rowsWrittenBefore(sent: readonly SentCommand[], thread: number): number {
  let rows = 0;
  for (const c of sent) {
    if (c.threadId !== thread || c.command !== 'Query') continue;
    if (/for share|for update/.test(statementKind(c.sql))) break;
    // A query may hold several statements (the writes before the lock go out together).
    for (const one of (c.sql ?? '').split(/;\s*\n/)) {
      const kind = statementKind(one);
      if (kind.startsWith('insert')) rows += one.split(/\)\s*,\s*\(/).length;
      else if (kind.startsWith('update') || kind.startsWith('delete')) rows += 1;
    }
  }
  return rows;
}

/**
 * Polls until the order's connection (the one that read the products) waits for a lock, and
 * returns the rows it had written by then (counted from the statements it sent before its first
 * locking read: mysql2 sends a connection's next statement only once the previous one answered).
 * Waiting means INNODB_TRX says LOCK WAIT, or the locking statement has been running for 2 s
 * (MariaDB's INNODB_TRX may keep saying RUNNING, e.g. while the optimizer reads one primary-key
 * row as a constant, "Statistics").
 */
async function waitUntilWaitingForLock(observer: Connection, sent: readonly SentCommand[]): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const locking = sent.find((c) => statementKind(c.sql) === 'select products');
    if (locking?.threadId != null) {
      const [rows] = await observer.query<RowDataPacket[]>(
        `SELECT t.trx_state, p.INFO, p.TIME
           FROM information_schema.INNODB_TRX t
           LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
          WHERE t.trx_mysql_thread_id = ?`,
        [locking.threadId],
      );
      const trx = rows[0];
      const inLockingRead = /(FOR UPDATE|LOCK IN SHARE MODE)\s*$/i.test(String(trx?.INFO ?? ''));
      if (inLockingRead && (trx?.trx_state === 'LOCK WAIT' || Number(trx?.TIME) >= 2))
        return rowsWrittenBefore(sent, locking.threadId);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the order never waited for the lock');
}

const ordered = <T>(race: Race<T>): T => {
  if (!race.outcome.ok) throw race.outcome.error;
  return race.outcome.value;
};

const lineRows = (orderId: string) =>
  db().selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_no').execute();

describe('a product changed between the unlocked read and the lock (a real race, two sessions)', () => {
  it('a price raised meanwhile: the written order is redone at the locked price (lines, total, stored response)', async () => {
    const a = await makeProduct({ priceCents: 500, stock: 10 });
    const b = await makeProduct({ priceCents: 300, stock: 10 });
    const key = randomUUID();
    const body = { products: lines([a.id, 2], [b.id, 1]), idempotencyKey: key };
    const race = await raceWithChange(
      async (h) => {
        await h.query('UPDATE products SET price_cents = 777 WHERE id = ?', [a.id]);
      },
      () => placeOrder(db(), body),
    );
    // It had written the key, the order, 2 lines and 2 movements before it asked for the lock.
    expect(race.rowsWrittenBeforeLock).toBeGreaterThanOrEqual(6);
    const placed = ordered(race);
    expect(placed.order.products.map((l) => [l.product_id, l.price, l.line_total])).toEqual([
      [a.id, 7.77, 15.54],
      [b.id, 3, 3],
    ]);
    expect(placed.order.total_price).toBe(18.54);
    const rows = await lineRows(placed.order.id);
    expect(rows.map((l) => [l.line_no, l.product_id, l.unit_price_cents, l.line_total_cents])).toEqual([
      [1, a.id, 777, 1554],
      [2, b.id, 300, 300],
    ]);
    const order = await db()
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', placed.order.id)
      .executeTakeFirstOrThrow();
    expect(order.total_cents).toBe(1854);
    expect(await getOrder(db(), placed.order.id)).toEqual(placed.order);
    // The stored response is the redone one: a replay gives the same order at the locked price.
    const replay = await placeOrder(db(), body);
    expect(replay).toEqual({ order: placed.order, replayed: true });
    expect([await stockOf(a.id), await ledgerSum(a.id), await stockOf(b.id), await ledgerSum(b.id)]).toEqual([
      8, 8, 9, 9,
    ]);
  });

  it('a rename meanwhile: the lines and the response carry the name in force under the lock', async () => {
    const p = await makeProduct({ stock: 5 });
    const renamed = `renamed ${randomUUID()}`;
    const race = await raceWithChange(
      async (h) => {
        await h.query('UPDATE products SET name = ? WHERE id = ?', [renamed, p.id]);
      },
      () => placeOrder(db(), { products: lines([p.id, 1]) }),
    );
    expect(race.rowsWrittenBeforeLock).toBeGreaterThanOrEqual(3);
    const placed = ordered(race);
    expect(placed.order.products[0]?.name).toBe(renamed);
    expect((await lineRows(placed.order.id)).map((l) => l.name)).toEqual([renamed]);
    expect(await getOrder(db(), placed.order.id)).toEqual(placed.order);
  });

  it('an archive meanwhile: 422 unknown_product as today, and everything the order wrote is rolled back', async () => {
    const a = await makeProduct({ stock: 5 });
    const b = await makeProduct({ stock: 1 });
    const before = await tableCounts();
    const race = await raceWithChange(
      async (h) => {
        await h.query('UPDATE products SET archived_at = NOW(3) WHERE id = ?', [a.id]);
        await h.query("UPDATE counters SET value = value - 1 WHERE name = 'live_products'");
        // b also runs short meanwhile: unknown products are still reported first.
        await h.query('UPDATE stock_shards SET stock = 0 WHERE product_id = ?', [b.id]);
        await h.query(
          "INSERT INTO stock_movements (product_id, delta, reason, created_at) VALUES (?, -1, 'adjusted', NOW(3))",
          [b.id],
        );
      },
      () => placeOrder(db(), { products: lines([b.id, 1], [a.id, 1]), idempotencyKey: randomUUID() }),
    );
    expect(race.rowsWrittenBeforeLock).toBeGreaterThanOrEqual(5);
    expect(race.outcome.ok).toBe(false);
    const err = race.outcome.ok ? undefined : race.outcome.error;
    expect(err).toBeInstanceOf(UnknownProductError);
    expect((err as UnknownProductError).productIds).toEqual([a.id]);
    // Only the other session's ledger row was added.
    expect(await tableCounts()).toEqual({ ...before, stock_movements: (before.stock_movements ?? 0) + 1 });
    expect([await stockOf(a.id), await ledgerSum(a.id)]).toEqual([5, 5]);
  });

  it('stock taken meanwhile: 409 insufficient_stock listing every short line at the locked stock, nothing written', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const c = await makeProduct({ stock: 10 });
    const before = await tableCounts();
    const race = await raceWithChange(
      async (h) => {
        for (const [id, left] of [
          [a.id, 1],
          [c.id, 2],
        ] as const) {
          await h.query('UPDATE stock_shards SET stock = ? WHERE product_id = ?', [left, id]);
          await h.query(
            "INSERT INTO stock_movements (product_id, delta, reason, created_at) VALUES (?, ?, 'adjusted', NOW(3))",
            [id, left - 10],
          );
        }
      },
      () => placeOrder(db(), { products: lines([c.id, 3], [b.id, 4], [a.id, 2]) }),
    );
    expect(race.rowsWrittenBeforeLock).toBeGreaterThanOrEqual(7);
    const err = race.outcome.ok ? undefined : race.outcome.error;
    expect(err).toBeInstanceOf(InsufficientStockError);
    expect((err as InsufficientStockError).shortfalls).toEqual([
      { product_id: a.id, requested: 2, available: 1 },
      { product_id: c.id, requested: 3, available: 2 },
    ]);
    expect(await tableCounts()).toEqual({ ...before, stock_movements: (before.stock_movements ?? 0) + 2 });
    expect([await stockOf(a.id), await stockOf(b.id), await stockOf(c.id)]).toEqual([1, 10, 2]);
    expect([await ledgerSum(a.id), await ledgerSum(b.id), await ledgerSum(c.id)]).toEqual([1, 10, 2]);
  });

  it('every price of a 100-line order with the longest names changed meanwhile: redone, each statement under 16 KB', async () => {
    const longName = () => `${randomUUID()} ${'杯\'"\\'.repeat(60)}`.slice(0, 255);
    const many = await Promise.all(
      Array.from({ length: MAX_ORDER_LINES }, () => makeProduct({ stock: 5, priceCents: 100, name: longName() })),
    );
    const ids = many.map((m) => m.id);
    const key = randomUUID();
    const body = { products: ids.map((id) => ({ product_id: id, quantity: 1 })), idempotencyKey: key };
    const race = await raceWithChange(
      async (h) => {
        await h.query('UPDATE products SET price_cents = price_cents + 1 WHERE id IN (?)', [ids]);
      },
      () => placeOrder(db(), body),
    );
    const placed = ordered(race);
    expect(new Set(placed.order.products.map((l) => l.price))).toEqual(new Set([1.01]));
    expect(placed.order.total_price).toBe(101);
    expect((await lineRows(placed.order.id)).every((l) => l.unit_price_cents === 101)).toBe(true);
    expect(await placeOrder(db(), body)).toEqual({ order: placed.order, replayed: true });
    const queries = race.log.filter((c) => c.command === 'Query').map((c) => c.sql ?? '');
    expect(queries.some((q) => statementKind(q) === 'delete order_lines')).toBe(true);
    for (const q of queries) expect(Buffer.byteLength(q, 'utf8'), q.slice(0, 60)).toBeLessThan(16 * 1024);
  });
});

describe('lines written before the lock take no lock on their product (no foreign key to products)', () => {
  it('while one session has written an order line for a product, another locks that product with NOWAIT', async () => {
    const p = await makeProduct({ stock: 5 });
    const url = inject('databaseUrl');
    const writer = await createConnection({ uri: url });
    const other = await createConnection({ uri: url });
    const orderId = `ord_${'x'.repeat(10)}${randomUUID()
      .replace(/-/g, '')
      .slice(0, 16)
      .replace(/[^a-z2-7]/g, 'q')}`;
    try {
      await writer.beginTransaction();
      await writer.query(
        "INSERT INTO orders (id, status, total_cents, created_at) VALUES (?, 'confirmed', 100, NOW(3))",
        [orderId],
      );
      await writer.query(
        'INSERT INTO order_lines (order_id, product_id, line_no, name, quantity, unit_price_cents, line_total_cents) VALUES (?, ?, 1, ?, 1, 100, 100)',
        [orderId, p.id, p.name],
      );
      await other.beginTransaction();
      // With the foreign key the INSERT above holds a shared lock on the product row, and this fails at once.
      const [rows] = await other.query<RowDataPacket[]>('SELECT id FROM products WHERE id = ? FOR UPDATE NOWAIT', [
        p.id,
      ]);
      expect(rows.map((r) => Number(r.id))).toEqual([p.id]);
    } finally {
      await other.rollback().catch(() => undefined);
      await writer.rollback().catch(() => undefined);
      await other.end();
      await writer.end();
    }
  });

  it('a hot product: 96 orders from 16 sessions at once end without one deadlock retry, stock = ledger', async () => {
    const p = await makeProduct({ stock: 1_000 });
    let retries = 0;
    const one = async () => {
      const scope = newRequestScope(undefined);
      try {
        await placeOrder(bindScope(db(), scope), { products: lines([p.id, 1]) });
      } finally {
        retries += scope.counts.dbRetries;
      }
    };
    const queue = Array.from({ length: 96 }, () => one);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let task = queue.pop(); task; task = queue.pop()) await task();
      }),
    );
    expect(retries).toBe(0);
    expect([await stockOf(p.id), await ledgerSum(p.id)]).toEqual([904, 904]);
  });
});

describe('the migration that drops the foreign key', () => {
  it('applies on a database that already ran the later 2026_11_29_0002 migration, and drops the key', async () => {
    const { Migrator } = await import('kysely');
    const { createDb } = await import('../../lib/db/client');
    const { migrate } = await import('../../lib/db/migrate');
    const { migrations } = await import('../../lib/db/migrations');
    const { createDatabase, dropDatabase, serverUrlOf, withDatabase } = await import('../../scripts/lib/mysql-server');
    const server = serverUrlOf(inject('databaseUrl'));
    const name = `shop_fk_migration_${Date.now()}_${randomUUID().slice(0, 6)}`;
    await createDatabase(server, name);
    const database = createDb(withDatabase(server, name), { poolSize: 1, lockWaitTimeoutS: 0, statementTimeoutMs: 0 });
    const fkCount = async () => {
      const [rows] = await observer.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS
          WHERE CONSTRAINT_SCHEMA = ? AND CONSTRAINT_NAME = 'fk_order_lines_product'`,
        [name],
      );
      return Number(rows[0]?.n);
    };
    const observer = await createConnection({ uri: server });
    try {
      // A database migrated before this change landed: everything but 0001.
      const { '2026_11_29_0001_order_lines_without_product_fk': _skipped, ...before } = migrations;
      const old = await new Migrator({
        db: database,
        provider: { getMigrations: async () => before },
      }).migrateToLatest();
      expect(old.error).toBeUndefined();
      expect(await fkCount()).toBe(1);
      const result = await migrate(database);
      expect(result.results?.map((r) => [r.migrationName, r.status])).toEqual([
        ['2026_11_29_0001_order_lines_without_product_fk', 'Success'],
      ]);
      expect(await fkCount()).toBe(0);
    } finally {
      await observer.end();
      await database.destroy();
      await dropDatabase(server, name);
    }
  });
});
