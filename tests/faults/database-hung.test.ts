import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as getProduct } from '../../functions/products/get-product';
import { handler as health } from '../../functions/system/health';
import { config } from '../../lib/config';
import { closeDb, db } from '../../lib/db/client';
import { migrateToLatest } from '../../lib/db/migrate';
import { createDatabase, type LocalServer, startLocalServer, withDatabase } from '../../scripts/lib/mysql-server';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { pointProcessAt } from '../../scripts/lib/process-db';
import { timed } from '../support/timed';
import { ledgerSum, makeProduct, stockOf } from '../support/factories';
import { freezeProcess } from '../support/freeze';
import { skipWithoutServerBinary } from '../support/requires';

/*
 * A database that stops answering without closing anything (a hung server, a failover, a network
 * path that drops packets): the server process of a throwaway server is frozen with SIGSTOP. The
 * kernel still holds its connections open, so nothing fails fast; only the statement deadline
 * (DB_STATEMENT_TIMEOUT_MS, lib/db/client.ts) and the connect timeout turn the wait into a 503.
 * Then SIGCONT: the same process serves again.
 */
const originalUrl = process.env.DATABASE_URL;
let server: LocalServer | undefined;
let serverPid = 0;

describe.skipIf(skipWithoutServerBinary('database that stops answering'))('database that stops answering', () => {
  beforeAll(async () => {
    server = await startLocalServer({ dataDir: '', ephemeral: true });
    await createDatabase(server.url, 'shop');
    const url = withDatabase(server.url, 'shop');
    await migrateToLatest(url);
    await pointProcessAt(url);
    const { rows } = await sql<{ pidFile: string }>`SELECT @@pid_file AS pidFile`.execute(db());
    serverPid = Number((await readFile(rows[0]!.pidFile, 'utf8')).trim());
  }, 180_000);

  afterAll(async () => {
    if (serverPid > 0) process.kill(serverPid, 'SIGCONT');
    await closeDb();
    await server?.stop();
    if (originalUrl !== undefined) await pointProcessAt(originalUrl);
    await closeDb();
  }, 120_000);

  it('answers 503 database_unavailable within the statement and connect deadlines instead of hanging, and serves again once it answers', async () => {
    const product = await makeProduct({ stock: 5, stockShards: 4 });
    const get = () =>
      invoke(getProduct, {
        path: `/products/${product.id}`,
        route: '/products/{id}',
        pathParameters: { id: String(product.id) },
      });
    const order = () =>
      invoke(createOrder, {
        method: 'POST',
        path: '/orders',
        json: { products: [{ product_id: product.id, quantity: 2 }] },
        headers: { 'Idempotency-Key': `hung-${product.id}` },
      });
    // Warm: both pooled connections are idle and alive, as in a busy Lambda.
    expect((await Promise.all([get(), get()])).map((r) => r.status)).toEqual([200, 200]);

    await freezeProcess(serverPid);
    let down: Array<{ value: Reply<{ code?: string }>; ms: number }>;
    let healthDown: { value: Reply; ms: number };
    try {
      [healthDown, ...down] = await Promise.all([
        timed(() => invoke(health, { path: '/health' })),
        timed(get),
        timed(order),
        timed(get),
      ]);
    } finally {
      process.kill(serverPid, 'SIGCONT');
    }

    expect(healthDown.value.status).toBe(503);
    expect(healthDown.value.body).toEqual({ status: 'degraded', database: 'unreachable' });
    const c = config();
    for (const r of down) {
      expect(r.value.status).toBe(503);
      expect(r.value.body.code).toBe('database_unavailable');
      expect(Number(r.value.headers['retry-after'])).toBeGreaterThan(0);
      // Bounded by the deadlines (a statement, then a fresh connection), never a hang.
      expect(r.ms).toBeLessThan(c.dbStatementTimeoutMs + c.dbConnectTimeoutMs + 3_000);
    }

    // Answering again: the same process (same pool) serves at once.
    const back = await timed(get);
    expect(back.value.status).toBe(200);
    const placed = await timed(order);
    expect(placed.value.status).toBe(201); // the key of the failed attempt was not stored
    expect(placed.value.headers['idempotent-replayed']).toBeUndefined();
    expect(await stockOf(product.id)).toBe(3);
    expect(await ledgerSum(product.id)).toBe(3);

    console.log(
      `[faults] database hung (SIGSTOP): /health 503 after ${healthDown.ms} ms; requests 503 after ` +
        `${down.map((r) => r.ms).join(', ')} ms (statement deadline ${c.dbStatementTimeoutMs} ms, connect ` +
        `${c.dbConnectTimeoutMs} ms). After SIGCONT: 200 in ${back.ms} ms, order 201 in ${placed.ms} ms`,
    );
  }, 120_000);
});
