import { randomUUID } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { resetConfigForTests } from '../../lib/config';
import { closeDb, db } from '../../lib/db/client';
import { databaseNameOf } from '../../scripts/lib/mysql-server';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct, stockOf } from '../support/factories';

/*
 * The connection running an order is killed (`KILL <id>` from another session) while its
 * transaction is open. To stop the order at a known point, a second session holds a lock the
 * order's next statement needs; the order's session is found in the process list waiting on it,
 * killed, and only then is the lock released.
 *
 *  - at the ledger insert: key placeholder, order and lines inserted, no product locked yet;
 *  - at the FOR UPDATE of its stock shard (locked last): key, order, lines, ledger movements and
 *    the stored response all written, not committed.
 *
 * The product keeps its stock in 4 shard rows (docs/decisions/0012-stock-shards.md).
 *
 * Either way: nothing of the order survives, the client gets 503 database_unavailable, and the
 * next request in the same process (same pool) succeeds, even with the same Idempotency-Key.
 */

// Long enough that the order is still waiting when it is killed, however slow the machine.
process.env.DB_LOCK_WAIT_TIMEOUT_S = '30';
resetConfigForTests();

const url = inject('databaseUrl');
const schema = databaseNameOf(url)!;
let locker: Connection;
let admin: Connection;

beforeAll(async () => {
  locker = await createConnection({ uri: url });
  admin = await createConnection({ uri: url });
});

afterAll(async () => {
  await locker.end();
  await admin.end();
  await closeDb();
});

/** The process-list id of the session (other than ours) whose running statement matches `like`. */
async function waitForSession(like: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [rows] = await admin.query<Array<{ ID: number } & RowDataPacket>>(
      `SELECT ID FROM information_schema.PROCESSLIST
        WHERE DB = ? AND INFO LIKE ? AND ID NOT IN (CONNECTION_ID(), ?)`,
      [schema, like, locker.threadId],
    );
    if (rows[0]) return rows[0].ID;
    if (Date.now() > deadline) throw new Error(`no session running ${like}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function orderRowsFor(productId: number): Promise<number> {
  const rows = await db().selectFrom('order_lines').select('order_id').where('product_id', '=', productId).execute();
  return rows.length;
}

async function keyStored(key: string): Promise<boolean> {
  return (
    (await db().selectFrom('idempotency_keys').select('idem_key').where('idem_key', '=', key).executeTakeFirst()) !==
    undefined
  );
}

const place = (productId: number, key: string): Promise<Reply<{ id?: string; code?: string }>> =>
  invoke(createOrder, {
    method: 'POST',
    path: '/orders',
    json: { products: [{ product_id: productId, quantity: 2 }] },
    headers: { 'Idempotency-Key': key },
  });

describe('an order whose database connection is killed mid-transaction', () => {
  const cases = [
    {
      when: 'while it waits for the stock shard lock (everything but the stock take written)',
      // Holds every shard of the product, so the order's SELECT … FOR UPDATE of its pick waits.
      hold: (productId: number) =>
        locker.query('SELECT shard_no FROM stock_shards WHERE product_id = ? FOR UPDATE', [productId]),
      statement: '%stock_shards%FOR UPDATE%',
    },
    {
      when: 'after inserting the order and its lines, at its ledger insert',
      // A locking read past the last movement takes the gap above it, so any new movement waits.
      hold: () =>
        locker.query('SELECT id FROM stock_movements WHERE id > (SELECT MAX(id) FROM stock_movements) FOR UPDATE'),
      statement: 'insert into `stock_movements`%',
    },
  ];

  for (const c of cases) {
    it(`${c.when}: writes nothing, answers 503 database_unavailable, and the next request succeeds`, async () => {
      const product = await makeProduct({ stock: 10, stockShards: 4 });
      const key = `kill-${randomUUID()}`;
      await db().selectFrom('products').select('id').limit(1).execute(); // warm pool, as in a used Lambda

      await locker.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await locker.beginTransaction();
      await c.hold(product.id);
      const pending = place(product.id, key);
      let victim: number;
      try {
        victim = await waitForSession(c.statement);
        await admin.query(`KILL ${Number(victim)}`);
      } finally {
        await locker.rollback();
      }
      const res = await pending;

      expect(res.status).toBe(503);
      expect(res.body.code).toBe('database_unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.text).not.toMatch(/kill|mysql|ER_|interrupted/i);
      expect(await stockOf(product.id)).toBe(10);
      expect(await ledgerSum(product.id)).toBe(10);
      expect(await orderRowsFor(product.id)).toBe(0);
      expect(await keyStored(key)).toBe(false);
      const [gone] = await admin.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [
        victim,
      ]);
      expect(gone).toHaveLength(0);

      // Same process, same pool, same key: the retry goes through.
      const retry = await place(product.id, key);
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await stockOf(product.id)).toBe(8);
      expect(await ledgerSum(product.id)).toBe(8);
      expect(await orderRowsFor(product.id)).toBe(1);
      expect(await keyStored(key)).toBe(true);
      // And every connection the pool hands out now is alive.
      const again = await Promise.all([1, 2, 3].map(() => place(product.id, `kill-${randomUUID()}`)));
      expect(again.map((r) => r.status)).toEqual([201, 201, 201]);
    });
  }
});
