import { randomUUID } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { config, resetConfigForTests } from '../../lib/config';
import { closeDb, db } from '../../lib/db/client';
import { resetLoggerForTests } from '../../lib/observability/logger';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct, stockOf, tableCounts } from '../support/factories';

/*
 * Another transaction holds a product's row lock for longer than the lock-wait limit (1 s here).
 * The order waits, times out, is re-run DB_MAX_RETRIES times with backoff, and then answers 503
 * busy with Retry-After, having written nothing. Once the lock is gone the same request succeeds.
 * The number of attempts is read from the request's own log line (`db_retries`).
 */
process.env.DB_LOCK_WAIT_TIMEOUT_S = '1';
process.env.DB_MAX_RETRIES = '2';
process.env.LOG_LEVEL = 'warn';
resetConfigForTests();
resetLoggerForTests();

let locker: Connection;

beforeAll(async () => {
  locker = await createConnection({ uri: inject('databaseUrl') });
});

afterAll(async () => {
  await locker.end();
  await closeDb();
});

/** Runs `fn` and returns the JSON log lines written meanwhile (Powertools: WARN goes to stderr). */
async function withLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const chunks: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  try {
    const result = await fn();
    const lines = chunks
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines };
  } finally {
    process.stderr.write = original;
  }
}

describe('a product row locked past the lock-wait limit', () => {
  it('makes an order retry DB_MAX_RETRIES times, then answer 503 busy with Retry-After, writing nothing; it succeeds once the lock is gone', async () => {
    expect(config().dbLockWaitTimeoutS).toBe(1);
    const product = await makeProduct({ stock: 10 });
    const key = `lock-${randomUUID()}`;
    const body = { products: [{ product_id: product.id, quantity: 3 }] };
    const before = await tableCounts();

    await locker.beginTransaction();
    await locker.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [product.id]);
    let outcome: { result: Reply<{ code?: string }>; lines: Array<Record<string, unknown>> };
    try {
      outcome = await withLogs(() =>
        invoke(createOrder, { method: 'POST', path: '/orders', json: body, headers: { 'Idempotency-Key': key } }),
      );
    } finally {
      await locker.rollback();
    }
    const res = outcome.result;

    expect(res.status).toBe(503);
    expect(res.body.code).toBe('busy');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const logged = outcome.lines.find((l) => l.request_id === res.headers['x-request-id']);
    expect(logged).toMatchObject({ status: 503, code: 'busy', db_retries: 2 });
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(product.id)).toBe(10);
    expect(await ledgerSum(product.id)).toBe(10);
    expect(await db().selectFrom('idempotency_keys').select('idem_key').where('idem_key', '=', key).execute()).toEqual(
      [],
    );

    const retry = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      json: body,
      headers: { 'Idempotency-Key': key },
    });
    expect(retry.status).toBe(201);
    expect(await stockOf(product.id)).toBe(7);
  });

  it('makes a cancel answer 503 busy too, restoring nothing, and succeed once the lock is gone', async () => {
    const product = await makeProduct({ stock: 10, stockShards: 4 });
    const placed = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      json: { products: [{ product_id: product.id, quantity: 4 }] },
    });
    expect(placed.status).toBe(201);
    const id = placed.body.id as string;
    const cancel = () =>
      invoke(cancelOrder, {
        method: 'POST',
        path: `/orders/${id}/cancel`,
        route: '/orders/{id}/cancel',
        pathParameters: { id },
        admin: true,
      });

    await locker.beginTransaction();
    // A cancel locks only the stock shard it gives the units back to (shard 0).
    await locker.query('SELECT shard_no FROM stock_shards WHERE product_id = ? FOR UPDATE', [product.id]);
    let res: Awaited<ReturnType<typeof cancel>>;
    try {
      res = (await withLogs(cancel)).result;
    } finally {
      await locker.rollback();
    }
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('busy');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(await stockOf(product.id)).toBe(6);
    expect(await ledgerSum(product.id)).toBe(6);

    const retry = await cancel();
    expect(retry.status).toBe(200);
    expect(retry.body.status).toBe('cancelled');
    expect(await stockOf(product.id)).toBe(10);
    expect(await ledgerSum(product.id)).toBe(10);
  });
});
