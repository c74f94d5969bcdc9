/**
 * Over HTTP: serverless-offline with worker threads (each concurrent invocation gets its own
 * Lambda-like instance with its own module state and its own small pool), and with
 * `--useInProcess` (handlers in the offline process: one module instance and one pool per function,
 * shared by concurrent requests). `npm run dev` runs one of the two (scripts/lib/offline-flags.ts);
 * its rows are divided by the in-process handler's own figure at the same concurrency and pool
 * (`handler_*_http_ref`, measured here, right before) for `http_*_vs_handler`. autocannon drives
 * GET /products and POST /orders. The figure is the local developer's: serverless-offline's own
 * cost (Hapi, event translation, worker messaging) is in it, which API Gateway + Lambda do not have.
 */
import autocannon from 'autocannon';
import { devOfflineFlags } from '../../scripts/lib/offline-flags';
import { addRow, type BenchContext, recordAudit } from '../lib/context';
import { connect } from '../lib/databases';
import { invoke, loadHandler } from '../../scripts/lib/lambda';
import { unexpected, useDatabase } from '../lib/handlers';
import { runLoad, type Summary, summarise } from '../lib/load';
import { discardStdout } from '../lib/stdout';
import { StockTracker } from '../lib/stock-check';
import { type Offline, startOffline } from '../../scripts/lib/offline';
import { type OrderProducts, singleLine } from '../lib/workload';

export const HTTP_POOL_SIZE = 2;
/**
 * serverless-offline runs one worker thread (its own module instance, pool and JIT) per concurrent
 * request in flight: at 16 connections on 2 cores the cold workers swamp the figure, so keep it to a
 * developer's scale.
 */
export const HTTP_CONNECTIONS = 4;
const START_TIMEOUT_MS = 180_000;

/** serverless-offline through the one harness the e2e tests use (free ports, own process group). */
function startBenchOffline(ctx: BenchContext, flags: string[]): Promise<Offline> {
  return startOffline({
    databaseUrl: ctx.runUrl,
    // As `npm run dev` runs it: log lines and metrics on (the harness silences logs by default).
    // Their bytes go to /dev/null, as the in-process reference drops them (bench/lib/stdout.ts):
    // piped here, this process (which runs autocannon) would read every line while it measures.
    stdout: 'ignore',
    env: {
      DB_POOL_SIZE: String(HTTP_POOL_SIZE),
      LOG_LEVEL: 'info',
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
    flags,
    readyTimeoutMs: START_TIMEOUT_MS,
  });
}

function toSummary(r: autocannon.Result, ok: number): Summary {
  return {
    ops_per_s: r.duration > 0 ? ok / r.duration : 0,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    mean_ms: r.latency.average,
    ok,
    failed: r.non2xx + r.errors,
  };
}

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return (await autocannon(opts)) as autocannon.Result;
}

/**
 * The in-process handlers at the HTTP rows' concurrency and pool size, same database, same
 * requests: the denominator of `http_*_vs_handler`. Rows handler_list_http_ref, handler_order_http_ref.
 */
async function runHandlerReference(ctx: BenchContext, products: OrderProducts, connections: number): Promise<void> {
  const s = ctx.settings;
  await useDatabase(ctx.runUrl, HTTP_POOL_SIZE);
  const list = loadHandler(ctx.repoRoot, 'functions/products/list-products.ts');
  const create = loadHandler(ctx.repoRoot, 'functions/orders/create-order.ts');
  const stdout = discardStdout();
  try {
    const getList = async () => {
      const reply = await invoke(list, { method: 'GET', path: '/products' }, 'listProducts');
      if (reply.status !== 200) throw unexpected(reply, 200);
    };
    const tracker = new StockTracker(products.spreadIds);
    const c = await connect(ctx.runUrl);
    try {
      await tracker.snapshot(c);
      const placeOrder = async () => {
        const lines = singleLine(products, 'spread');
        const json = { products: lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })) };
        const reply = await invoke(create, { method: 'POST', path: '/orders', json }, 'createOrder');
        if (reply.status !== 201) throw unexpected(reply, 201);
        tracker.add(lines);
      };
      const opts = { concurrency: connections, durationMs: s.durationMs, warmupMs: s.warmupMs };
      const l = summarise(await runLoad(getList, opts));
      const o = summarise(await runLoad(placeOrder, opts));
      recordAudit(ctx, 'handler_order_http_ref', await tracker.audit(c));
      const note = `in-process handler, ${connections} at a time, pool ${HTTP_POOL_SIZE}`;
      addRow(ctx, 'handler_list_http_ref', l, `GET /products, ${note}`);
      addRow(ctx, 'handler_order_http_ref', o, `POST /orders (10k products), ${note}`);
    } finally {
      await c.end();
    }
  } finally {
    stdout.restore();
  }
}

export async function runHttp(ctx: BenchContext, products: OrderProducts, connections: number): Promise<void> {
  const s = ctx.settings;
  const seconds = Math.max(1, Math.round(s.durationMs / 1000));
  // Long enough for serverless-offline's worker instances to load their modules and JIT.
  const warmupS = s.quick ? 2 : 4;
  const dev = devOfflineFlags({});
  const devMode = dev.includes('--useInProcess') ? 'in_process' : 'workers';
  ctx.details.http_mode = devMode;
  ctx.details.http_dev_flags = dev;
  // npm run dev's settings first, right after the in-process reference; the other mode for contrast.
  const modes = [devMode, devMode === 'in_process' ? 'workers' : 'in_process'] as const;
  for (const mode of modes) {
    const inProcess = mode === 'in_process';
    if (mode === devMode) await runHandlerReference(ctx, products, connections);
    const how = inProcess ? '--useInProcess' : 'worker threads';
    ctx.log(`serverless-offline (${how}${mode === devMode ? ', as npm run dev' : ''}): starting`);
    const offline = await startBenchOffline(ctx, inProcess ? ['--useInProcess'] : []);
    try {
      // Warm-up: every concurrent instance loads its module and opens its pool before measuring.
      await cannon({
        url: `${offline.baseUrl}/products`,
        connections,
        duration: warmupS,
      });

      ctx.log(`http_list_${mode} (${connections} connections, ${seconds} s)`);
      const list = await cannon({ url: `${offline.baseUrl}/products`, connections, duration: seconds });
      addRow(
        ctx,
        `http_list_${mode}`,
        toSummary(list, list['2xx']),
        `GET /products, pool ${HTTP_POOL_SIZE} per instance`,
      );

      const tracker = new StockTracker(products.spreadIds);
      const c = await connect(ctx.runUrl);
      try {
        await tracker.snapshot(c);
        const placeOrders = (duration: number) =>
          cannon({
            url: offline.baseUrl,
            connections,
            duration,
            requests: [
              {
                method: 'POST',
                path: '/orders',
                headers: { 'content-type': 'application/json' },
                setupRequest: (req) => {
                  const lines = singleLine(products, 'spread');
                  const json = { products: lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })) };
                  return { ...req, body: JSON.stringify(json) };
                },
                onResponse: (status, body) => {
                  if (status !== 201) return;
                  const order = JSON.parse(body) as { products: Array<{ product_id: number; quantity: number }> };
                  tracker.add(order.products.map((p) => ({ productId: p.product_id, quantity: p.quantity })));
                },
              },
            ],
          });
        await placeOrders(warmupS); // the createOrder instances warm up too
        ctx.log(`http_order_${mode} (${connections} connections, ${seconds} s)`);
        const orders = await placeOrders(seconds);
        // Requests still in flight when autocannon stopped may commit after it returned.
        await new Promise((r) => setTimeout(r, 1_000));
        recordAudit(ctx, `http_order_${mode}`, await tracker.audit(c));
        addRow(
          ctx,
          `http_order_${mode}`,
          toSummary(orders, orders['2xx']),
          `POST /orders (10k products), pool ${HTTP_POOL_SIZE} per instance`,
        );
      } finally {
        await c.end();
      }
    } finally {
      await offline.stop();
    }
  }
}
