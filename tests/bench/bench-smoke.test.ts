/**
 * Keeps the benchmark's pieces from rotting: the load runner, the raw order transaction, the
 * lost-update audit (including that it does catch a lost update), the zip reader and the table.
 * Tiny inputs, no timing assertions.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployBuildOptions } from '../../bench/lib/bundle';
import type { BenchContext } from '../../bench/lib/context';
import { connect, queryRows, seedProducts } from '../../bench/lib/databases';
import { mergeResults, quantile, runLoad, summarise } from '../../bench/lib/load';
import { StockTracker } from '../../bench/lib/stock-check';
import { renderTable } from '../../bench/lib/table';
import { unzipTo } from '../../bench/lib/unzip';
import { manyLines, singleLine } from '../../bench/lib/workload';
import { startLatencyProxy } from '../../bench/lib/latency-proxy';
import { captureStatements, lockRoundTrips, statementKind } from '../../bench/lib/statements';
import { fitCurve } from '../../bench/scenarios/hot-curve';
import { handlerPlacer } from '../../bench/scenarios/order-handler';
import { bundledRaw, ensureLockLastSchema, rawPlacers } from '../../bench/scenarios/orders';
import { createRawPool, rawPlaceOrder, rawPlaceOrderLockLast, rawPlaceOrderNaive } from '../../bench/scenarios/raw';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';
import { newOrderId } from '../../lib/orders/ids';

// A database of its own: one test below leaves a product whose stock disagrees with its ledger on
// purpose, which must not reach any check over the run's shared database.
let isolated: IsolatedDatabase;
const url = () => isolated.url;

let c: Connection;
beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_bench_smoke');
  c = await connect(url());
});
afterAll(async () => {
  await c.end();
  await isolated.drop();
});

describe('bench harness', () => {
  it('runs the raw order transaction at concurrency 4 for a second without losing an update', async () => {
    const hot = await seedProducts(url(), { count: 1, stock: 1_000_000, prefix: `Smoke hot ${Date.now()}` });
    const spread = await seedProducts(url(), { count: 20, stock: 1_000_000, prefix: `Smoke spread ${Date.now()}` });
    const products = { hotId: hot.firstId, spreadIds: Array.from({ length: 20 }, (_, i) => spread.firstId + i) };
    const ids = [products.hotId, ...products.spreadIds];
    const pool = createRawPool(url(), 4);
    try {
      const tracker = new StockTracker(ids);
      await tracker.snapshot(c);
      let i = 0;
      const result = await runLoad(
        async () => {
          const n = i++;
          const lines =
            n % 3 === 0
              ? singleLine(products, 'hot')
              : n % 3 === 1
                ? singleLine(products, 'spread')
                : manyLines(products, 5);
          await rawPlaceOrder(pool, lines);
          tracker.add(lines);
        },
        { concurrency: 4, durationMs: 1_000, warmupMs: 100 },
      );
      expect(result.errors).toEqual({});
      expect(result.failed).toBe(0);
      expect(result.ok).toBeGreaterThan(0);
      const audit = await tracker.audit(c);
      expect(audit.lost_updates).toBe(0);
      expect(audit.unrecorded_units).toBe(0);
      expect(audit.ledger_mismatches).toBe(0);
      expect(audit.orders).toBeGreaterThanOrEqual(result.ok);
      const s = summarise(result);
      expect(s.ops_per_s).toBeGreaterThan(0);
      expect(s.p50_ms).toBeLessThanOrEqual(s.p99_ms);
    } finally {
      await pool.end();
    }
  });

  it('the audit reports a lost update when two orders both write back the same stale stock', async () => {
    const p = await seedProducts(url(), { count: 1, stock: 100, prefix: `Smoke stale ${Date.now()}` });
    const tracker = new StockTracker([p.firstId]);
    await tracker.snapshot(c);
    // The bug of the service this replaces: read, decide in JavaScript, write the value back.
    const [rows] = await c.query('SELECT stock FROM stock_shards WHERE product_id = ? AND shard_no = 0', [p.firstId]);
    const stale = Number((rows as Array<{ stock: number }>)[0]?.stock);
    for (let k = 0; k < 2; k++) {
      const orderId = newOrderId();
      await c.query('INSERT INTO orders (id, status, total_cents, created_at) VALUES (?, ?, ?, NOW(3))', [
        orderId,
        'confirmed',
        100,
      ]);
      await c.query(
        'INSERT INTO order_lines (order_id, product_id, line_no, name, quantity, unit_price_cents, line_total_cents) VALUES (?, ?, 1, ?, 1, 100, 100)',
        [orderId, p.firstId, 'x'],
      );
      await c.query('UPDATE stock_shards SET stock = ? WHERE product_id = ? AND shard_no = 0', [stale - 1, p.firstId]);
      tracker.add([{ productId: p.firstId, quantity: 1 }]);
    }
    const audit = await tracker.audit(c);
    expect(audit.lost_updates).toBe(1);
    expect(audit.ledger_mismatches).toBe(1);
  });

  it('latency mode: both raw orders through the proxy lose nothing, and hold the lock 6 and 1 round trips', async () => {
    // The bench's run database drops the order_lines → products key the same way (see ensureLockLastSchema).
    await ensureLockLastSchema(url(), () => undefined);
    const hot = await seedProducts(url(), { count: 1, stock: 1_000_000, prefix: `Smoke latency ${Date.now()}` });
    const proxy = await startLatencyProxy(url(), 2);
    const pool = createRawPool(proxy.url(url()), 4);
    try {
      // Every chunk waits at least the delay each way: no query can come back sooner than 2 × 2 ms.
      const conn = await connect(proxy.url(url()));
      try {
        const t0 = performance.now();
        await conn.query('SELECT 1');
        expect(performance.now() - t0).toBeGreaterThanOrEqual(4);
      } finally {
        await conn.end();
      }
      const tracker = new StockTracker([hot.firstId]);
      await tracker.snapshot(c);
      const line = [{ productId: hot.firstId, quantity: 1 }];
      let n = 0;
      const result = await runLoad(
        async () => {
          await (n++ % 2 === 0 ? rawPlaceOrderLockLast : rawPlaceOrderNaive)(pool, line);
          tracker.add(line);
        },
        { concurrency: 4, count: 40 },
      );
      expect(result.errors).toEqual({});
      expect(result.ok).toBe(40);
      expect(await tracker.audit(c)).toMatchObject({ lost_updates: 0, unrecorded_units: 0, ledger_mismatches: 0 });

      const lockLast = await captureStatements(async () => void (await rawPlaceOrderLockLast(pool, line)));
      const naive = await captureStatements(async () => void (await rawPlaceOrderNaive(pool, line)));
      expect(lockLast.map((s) => statementKind(s.sql))).toEqual([
        'begin',
        'select products',
        'insert orders + insert order_lines + insert stock_movements',
        'select products for share',
        'select stock_shards for update + update stock_shards + commit',
      ]);
      expect(lockRoundTrips(lockLast)).toBe(1);
      expect(lockRoundTrips(naive)).toBe(6);
      const stats = await proxy.stats();
      expect(stats.connections).toBeGreaterThan(0);
      expect(stats.chunks).toBeGreaterThan(40 * 5 * 2);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });

  it("runs the order handler and raw.ts as bundles made with serverless.yml's esbuild settings", async () => {
    const options = deployBuildOptions(process.cwd());
    // What a deploy has (serverless.yml custom.esbuild), and mysql2 outside so statements are captured.
    expect(options).toMatchObject({ bundle: true, minify: true, keepNames: false, format: 'cjs', target: 'node20' });
    expect(options.external).toEqual(expect.arrayContaining(['@aws-sdk/*', 'mysql2']));
    const [hot] = await seedProducts(url(), { count: 1, stock: 50, prefix: 'Bundle smoke' }).then((s) => [s.firstId]);
    const line = [{ productId: hot as number, quantity: 1 }];
    const handler = await handlerPlacer({ repoRoot: process.cwd() } as BenchContext);
    const raw = rawPlacers(url(), 2, await bundledRaw(process.cwd()));
    try {
      await handler.pointAt(url(), 2);
      const sent = await captureStatements(() => handler.place(line));
      expect(lockRoundTrips(sent)).toBe(1);
      await raw.lockLast.place(line);
      const [row] = await queryRows<{ stock: number }>(
        c,
        'SELECT SUM(stock) AS stock FROM stock_shards WHERE product_id = ?',
        [hot],
      );
      expect(Number(row?.stock)).toBe(48);
    } finally {
      await handler.close();
      await raw.lockLast.close();
    }
  });

  it('fits the hot curve: time per order = a + b × round trip', () => {
    const points = [0, 1, 2, 4].map((rtt) => ({ rttMs: rtt, opsPerS: 1000 / (1.5 + 3 * rtt) }));
    expect(fitCurve(points)).toEqual({ a_ms: 1.5, b: 3 });
    expect(fitCurve(points.slice(0, 1))).toBeNull();
  });

  it('quantiles use the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('merges interleaved slices by adding counts, time and CPU and pooling latencies', () => {
    const slice = (ok: number, ms: number, lat: number[]) => ({
      ok,
      failed: 1,
      elapsedMs: ms,
      latenciesMs: lat,
      errors: { boom: 1 },
      cpu: { clientUs: 100, serverUs: 50 },
    });
    const m = mergeResults([slice(2, 1_000, [1, 3]), slice(3, 1_000, [2, 4, 5])]);
    expect(m).toMatchObject({
      ok: 5,
      failed: 2,
      elapsedMs: 2_000,
      errors: { boom: 2 },
      cpu: { clientUs: 200, serverUs: 100 },
    });
    expect(m.latenciesMs).toEqual([1, 2, 3, 4, 5]);
    expect(summarise(m).ops_per_s).toBe(2.5);
  });

  it('unpacks a zip made by the zip tool (a committed fixture: deflated, stored and a folder entry)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-unzip-'));
    try {
      const files = unzipTo(join(__dirname, '..', 'fixtures', 'made-by-zip.zip'), dir);
      expect(files.sort()).toEqual(['a.js', join('lib', 'b.txt')]);
      expect(readFileSync(join(dir, 'a.js'), 'utf8')).toBe('module.exports.handler = async () => 1;\n'.repeat(50));
      expect(readFileSync(join(dir, 'lib', 'b.txt'), 'utf8')).toBe('stored as is');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders a table with numbers right-aligned', () => {
    const t = renderTable(
      ['name', 'ops/s'],
      [
        ['raw', 1234.5],
        ['order', 98.76],
      ],
    );
    expect(t.split('\n')).toEqual(['name   ops/s', '─────  ─────', 'raw    1,235', 'order   98.8']);
  });
});
