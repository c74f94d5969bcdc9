import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as createProduct } from '../../functions/products/create-product';
import { handler as getProduct } from '../../functions/products/get-product';
import { handler as listProducts } from '../../functions/products/list-products';
import { handler as health } from '../../functions/system/health';
import { config } from '../../lib/config';
import { closeDb } from '../../lib/db/client';
import { migrateToLatest } from '../../lib/db/migrate';
import { createDatabase, type LocalServer, startLocalServer, withDatabase } from '../../scripts/lib/mysql-server';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { pointProcessAt } from '../../scripts/lib/process-db';
import { timed } from '../support/timed';
import { makeProduct, stockOf, tableCounts, uniqueName } from '../support/factories';
import { skipWithoutServerBinary } from '../support/requires';

/*
 * A real outage: this file's process talks to its own throwaway server, which is stopped and then
 * started again on the same datadir and port. The process (its module-level pool) is never reset
 * in between, as a warm Lambda instance would not be.
 */
const originalUrl = process.env.DATABASE_URL;
let dir = '';
let dataDir = '';
let port = 0;
let server: LocalServer | undefined;

function expectUnavailable(res: Reply<{ code?: string }>): void {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.body.code).toBe('database_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  // No driver message or address reaches the client.
  expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|mysql|connect/i);
}

describe.skipIf(skipWithoutServerBinary('database unreachable'))('database unreachable', () => {
  beforeAll(async () => {
    // Persistent (not ephemeral) so stop() keeps the data and the server can come back on it.
    dir = await mkdtemp(join(tmpdir(), 'shop-faults-'));
    await chmod(dir, 0o711);
    dataDir = join(dir, 'data');
    server = await startLocalServer({ dataDir, ephemeral: false });
    port = Number(new URL(server.url).port);
    await createDatabase(server.url, 'shop');
    const url = withDatabase(server.url, 'shop');
    await migrateToLatest(url);
    await pointProcessAt(url);
  }, 180_000);

  afterAll(async () => {
    await closeDb();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (originalUrl !== undefined) await pointProcessAt(originalUrl);
    await closeDb();
  }, 120_000);

  it('answers 503 database_unavailable within seconds while the server is down, /health says unreachable, and the same process recovers when it is back', async () => {
    // Warm: the pool holds live connections, as in a Lambda that has served requests.
    const product = await makeProduct({ stock: 5, stockShards: 4 }); // a sharded product, as for a sale
    expect(
      (
        await invoke(getProduct, {
          path: `/products/${product.id}`,
          route: '/products/{id}',
          pathParameters: { id: String(product.id) },
        })
      ).status,
    ).toBe(200);
    expect((await invoke(health, { path: '/health' })).status).toBe(200);
    const before = await tableCounts();

    await server!.stop();

    const down = {
      get: await timed(() =>
        invoke(getProduct, {
          path: `/products/${product.id}`,
          route: '/products/{id}',
          pathParameters: { id: String(product.id) },
        }),
      ),
      list: await timed(() => invoke(listProducts, { path: '/products' })),
      create: await timed(() =>
        invoke(createProduct, {
          method: 'POST',
          path: '/products',
          admin: true,
          json: { name: uniqueName(), price: 1, stock: 1 },
        }),
      ),
      order: await timed(() =>
        invoke(createOrder, {
          method: 'POST',
          path: '/orders',
          json: { products: [{ product_id: product.id, quantity: 1 }] },
          headers: { 'Idempotency-Key': 'outage-1' },
        }),
      ),
      health: await timed(() => invoke(health, { path: '/health' })),
    };
    expectUnavailable(down.get.value);
    expectUnavailable(down.list.value);
    expectUnavailable(down.create.value);
    expectUnavailable(down.order.value);
    expect(down.health.value.status).toBe(503);
    expect(down.health.value.body).toEqual({ status: 'degraded', database: 'unreachable' });
    // "Within a few seconds": each answer comes within the connect timeout plus slack, never a hang.
    const limit = config().dbConnectTimeoutMs + 3_000;
    for (const t of Object.values(down)) expect(t.ms).toBeLessThan(limit);

    const restartStarted = performance.now();
    server = await startLocalServer({ dataDir, port, ephemeral: false });
    const serverBackMs = Math.round(performance.now() - restartStarted);
    expect(Number(new URL(server.url).port)).toBe(port);

    // The first request after the server is back must already succeed: no dead pooled connection.
    const first = await timed(() =>
      invoke(getProduct, {
        path: `/products/${product.id}`,
        route: '/products/{id}',
        pathParameters: { id: String(product.id) },
      }),
    );
    expect(first.value.status).toBe(200);
    expect((await invoke(health, { path: '/health' })).status).toBe(200);
    const created = await invoke(createProduct, {
      method: 'POST',
      path: '/products',
      admin: true,
      json: { name: uniqueName(), price: 2.5, stock: 3 },
    });
    expect(created.status).toBe(201);
    expect(await stockOf(product.id)).toBe(5);
    // Nothing was written by the requests that failed during the outage.
    const after = await tableCounts();
    expect(after).toEqual({
      ...before,
      products: before.products! + 1,
      stock_shards: before.stock_shards! + 1,
      stock_movements: before.stock_movements! + 1,
    });
    // The order that failed can be retried with its key: it was never stored.
    const order = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      json: { products: [{ product_id: product.id, quantity: 1 }] },
      headers: { 'Idempotency-Key': 'outage-1' },
    });
    expect(order.status).toBe(201);
    expect(order.headers['idempotent-replayed']).toBeUndefined();
    expect(await stockOf(product.id)).toBe(4);

    console.log(
      `[faults] database down: 503 after get ${down.get.ms} ms, list ${down.list.ms} ms, create ${down.create.ms} ms, ` +
        `order ${down.order.ms} ms; ` +
        `/health 503 after ${down.health.ms} ms. Server restart took ${serverBackMs} ms; first request after it: 200 in ${first.ms} ms`,
    );
  }, 180_000);
});
