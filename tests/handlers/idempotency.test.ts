import { randomUUID } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as purgeKeys } from '../../functions/orders/purge-idempotency-keys';
import { db } from '../../lib/db/client';
import { overrideProcessEnv } from '../../scripts/lib/process-db';
import { invoke } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct, setShardStock, stockOf, tableCounts } from '../support/factories';

// A short lock wait keeps the "still in flight" case quick; the pool serves a few parallel requests.
let restoreEnv: () => Promise<void>;
beforeAll(async () => {
  restoreEnv = await overrideProcessEnv({ DB_LOCK_WAIT_TIMEOUT_S: '1', DB_POOL_SIZE: '8' });
});
afterAll(() => restoreEnv());

const post = (json: unknown, key?: string) =>
  invoke(createOrder, {
    method: 'POST',
    path: '/orders',
    json,
    headers: key === undefined ? {} : { 'Idempotency-Key': key },
  });

const ordersWithKey = async (key: string) =>
  db().selectFrom('idempotency_keys').select(['order_id', 'status_code']).where('idem_key', '=', key).execute();

describe('Idempotency-Key on POST /orders', () => {
  it('replays the first 201 (status, body, Location) with Idempotent-Replayed and creates nothing', async () => {
    const p = await makeProduct({ stock: 10, priceCents: 1250 });
    const key = `k-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 2 }] };
    const first = await post(body, key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const before = await tableCounts();
    const again = await post(body, key);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.text).toBe(first.text);
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(p.id)).toBe(8);
  });

  it('treats the same lines in another order as the same request', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const key = `k-${randomUUID()}`;
    const first = await post(
      {
        products: [
          { product_id: a.id, quantity: 1 },
          { product_id: b.id, quantity: 2 },
        ],
      },
      key,
    );
    const again = await post(
      {
        products: [
          { quantity: 2, product_id: b.id },
          { product_id: a.id, quantity: 1 },
        ],
      },
      key,
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(await stockOf(b.id)).toBe(8);
  });

  it('rejects the same key with another body: 422 idempotency_key_reused, nothing written', async () => {
    const p = await makeProduct({ stock: 10 });
    const key = `k-${randomUUID()}`;
    await post({ products: [{ product_id: p.id, quantity: 1 }] }, key);
    const before = await tableCounts();
    const other = await post({ products: [{ product_id: p.id, quantity: 2 }] }, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(p.id)).toBe(9);
  });

  it('stores nothing for a failed attempt, so the same key succeeds once stock is there', async () => {
    const p = await makeProduct({ stock: 1 });
    const key = `k-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 3 }] };
    const before = await tableCounts();
    const failed = await post(body, key);
    expect(failed.status).toBe(409);
    expect(await tableCounts()).toEqual(before);
    expect(await ordersWithKey(key)).toEqual([]);
    await setShardStock(p.id, 0, 5);
    await db()
      .insertInto('stock_movements')
      .values({ product_id: p.id, delta: 4, reason: 'adjusted', order_id: null, created_at: new Date() })
      .execute();
    const retried = await post(body, key);
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await stockOf(p.id)).toBe(2);
    expect(await ledgerSum(p.id)).toBe(2);
  });

  it.each([
    ['an empty key', ''],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a key with a control character', 'abc\tdef'],
    ['a key with non-ASCII text', 'clé-☕'],
  ])('rejects %s with 400 validation_failed naming the header, together with body problems', async (_n, key) => {
    const before = await tableCounts();
    const res = await post({ products: [{ product_id: 0, quantity: 1 }] }, key);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['idempotency-key', 'products.0.product_id']));
    expect(await tableCounts()).toEqual(before);
  });

  it('accepts a key of exactly 255 printable characters', async () => {
    const p = await makeProduct({ stock: 3 });
    const key = `${randomUUID()} ~!`.padEnd(255, 'x');
    const res = await post({ products: [{ product_id: p.id, quantity: 1 }] }, key);
    expect(res.status).toBe(201);
    expect((await post({ products: [{ product_id: p.id, quantity: 1 }] }, key)).headers['idempotent-replayed']).toBe(
      'true',
    );
  });

  it('creates exactly one order for concurrent requests with one key; the others replay it', async () => {
    const p = await makeProduct({ stock: 100 });
    const key = `k-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 3 }] };
    const replies = await Promise.all(Array.from({ length: 12 }, () => post(body, key)));
    const statuses = replies.map((r) => r.status);
    // A request may only replay (201) or, had it waited past the lock wait, get 409 in_use.
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = replies.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await stockOf(p.id)).toBe(97);
    expect(await ledgerSum(p.id)).toBe(97);
    expect(await ordersWithKey(key)).toEqual([{ order_id: created[0]?.body.id, status_code: 201 }]);
  });

  it('gives 409 idempotency_key_in_use with Retry-After while the first request holds the key past the lock wait', async () => {
    const p = await makeProduct({ stock: 5 });
    const key = `k-${randomUUID()}`;
    // Another session claims the key and stays in flight (uncommitted) longer than the lock wait.
    const holder = await createConnection({ uri: inject('databaseUrl') });
    try {
      await holder.beginTransaction();
      await holder.query(
        "INSERT INTO idempotency_keys (idem_key, request_hash, status_code, response_body, created_at, expires_at) VALUES (?, 'x', 0, '', NOW(3), NOW(3) + INTERVAL 1 DAY)",
        [key],
      );
      const before = await tableCounts();
      const res = await post({ products: [{ product_id: p.id, quantity: 1 }] }, key);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('idempotency_key_in_use');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(await stockOf(p.id)).toBe(5);
      expect(await tableCounts()).toEqual(before);
    } finally {
      await holder.rollback();
      await holder.end();
    }
    // Once the holder gave up (rolled back), the key is free again.
    const after = await post({ products: [{ product_id: p.id, quantity: 1 }] }, key);
    expect(after.status).toBe(201);
  });

  it('treats an expired key as absent: a new request with it creates a new order', async () => {
    const p = await makeProduct({ stock: 5 });
    const key = `k-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 1 }] };
    const first = await post(body, key);
    await db()
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('idem_key', '=', key)
      .execute();
    const second = await post(body, key);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
    expect(await stockOf(p.id)).toBe(3);
    const replay = await post(body, key);
    expect(replay.body.id).toBe(second.body.id);
  });
});

describe('purge-idempotency-keys (scheduled)', () => {
  it('deletes expired keys in batches and keeps live ones', async () => {
    const p = await makeProduct({ stock: 50 });
    const live = `k-${randomUUID()}`;
    await post({ products: [{ product_id: p.id, quantity: 1 }] }, live);
    const now = Date.now();
    const expired = Array.from({ length: 25 }, (_, i) => ({
      idem_key: `expired-${randomUUID()}-${i}`,
      request_hash: 'h'.repeat(64),
      status_code: 201,
      response_body: '{}',
      location: null,
      order_id: null,
      created_at: new Date(now - 25 * 3600_000),
      expires_at: new Date(now - 3600_000 + i),
    }));
    await db().insertInto('idempotency_keys').values(expired).execute();
    const result = await purgeKeys();
    expect(result.deleted).toBeGreaterThanOrEqual(25);
    expect(result.truncated).toBe(false);
    const left = await db()
      .selectFrom('idempotency_keys')
      .select('idem_key')
      .where('expires_at', '<=', new Date())
      .execute();
    expect(left).toEqual([]);
    expect(await ordersWithKey(live)).toHaveLength(1);
  });
});
