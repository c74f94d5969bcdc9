/**
 * Over HTTP: serverless-offline with worker threads (each concurrent invocation gets its own
 * Lambda-like instance with its own module state and its own small pool), and with
 * `--useInProcess` (handlers in the offline process: one module instance and one pool per function,
 * shared by concurrent requests). `npm run dev` runs one of the two (scripts/lib/offline-flags.ts);
 * its rows are divided by the in-process handler's own figure at the same concurrency and pool
 * (`handler_*_http_ref`, measured here in slices interleaved with them) for `http_*_vs_handler`. autocannon drives
 * GET /products and POST /orders. The figure is the local developer's: serverless-offline's own
 * cost (Hapi, event translation, worker messaging) is in it, which API Gateway + Lambda do not have.
 */
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { devOfflineFlags } from '../../scripts/lib/offline-flags';
import { addRow, type BenchContext, recordAudit } from '../lib/context';
import { cpuNow, cpuSince, processCpuUs } from '../lib/cpu';
import { connect } from '../lib/databases';
import { type Handler, invoke } from '../../scripts/lib/lambda';
import { overrideProcessEnv } from '../../scripts/lib/process-db';
import { loadBundle } from '../lib/bundle';
import { unexpected } from '../lib/handlers';
import { type LoadResult, mergeResults, runLoad, type Summary, summarise } from '../lib/load';
import { StockTracker } from '../lib/stock-check';
import { stdoutToDevNull } from '../lib/stdout';
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
/**
 * The handlers' log and metric output on both sides of each ratio, as `npm run dev` has it by
 * default: one JSON log line and one EMF document per request. Set for the offline process and for
 * this process's reference alike, whatever the shell running the benchmark exports.
 */
const HANDLER_OUTPUT = { LOG_LEVEL: 'info', METRICS_ENABLED: 'true' } as const;

interface HttpHandlersBundle {
  createOrder: Handler;
  listProducts: Handler;
  pointProcessAt(url: string, env?: Record<string, string | undefined>): Promise<() => Promise<void>>;
}

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
      ...HANDLER_OUTPUT,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
    flags,
    readyTimeoutMs: START_TIMEOUT_MS,
  });
}

/** The serverless-offline process serving `baseUrl` (its command line has `--httpPort <port>`), if /proc shows it. */
function offlinePid(baseUrl: string): number | undefined {
  const wanted = `\0--httpPort\0${new URL(baseUrl).port}\0`;
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(wanted)) return Number(d);
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    // no /proc (macOS): no CPU figure for the HTTP rows
  }
  return undefined;
}

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return (await autocannon(opts)) as autocannon.Result;
}

/** One autocannon load's figures, to be added up with the other slices of the same row. */
interface CannonSlice {
  ok: number;
  failed: number;
  seconds: number;
  p50: number;
  p99: number;
  mean: number;
  /** CPU µs of the slice: serverless-offline + this process (autocannon), and the database server. */
  cpu?: { clientUs: number; serverUs: number | undefined };
}

function sliceOf(r: autocannon.Result, cpu?: CannonSlice['cpu']): CannonSlice {
  const ok = r['2xx'];
  return {
    ok,
    failed: r.non2xx + r.errors,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    mean: r.latency.average,
    ...(cpu ? { cpu } : {}),
  };
}

/**
 * One autocannon load with the CPU it cost: the serverless-offline process (`pid`) and this one,
 * which only runs autocannon meanwhile, side by side with the in-process reference's own process;
 * and the database server's, as the reference reports it.
 */
async function measuredSlice(pid: number | undefined, load: () => Promise<autocannon.Result>): Promise<CannonSlice> {
  const offline0 = processCpuUs(pid);
  const cpu0 = cpuNow();
  const r = await load();
  const own = cpuSince(cpu0);
  const offline1 = processCpuUs(pid);
  if (offline0 === undefined || offline1 === undefined) return sliceOf(r);
  return sliceOf(r, { clientUs: offline1 - offline0 + own.clientUs, serverUs: own.serverUs });
}

/**
 * autocannon reports percentiles, not the latencies, so slices merge approximately: p50 and mean
 * weighted by requests, p99 the worst slice's. Throughput is exact: requests ÷ seconds, added up.
 */
function mergeSlices(slices: CannonSlice[]): Summary {
  const ok = slices.reduce((n, x) => n + x.ok, 0);
  const seconds = slices.reduce((n, x) => n + x.seconds, 0);
  const weighted = (f: (x: CannonSlice) => number) =>
    ok > 0 ? slices.reduce((n, x) => n + f(x) * x.ok, 0) / ok : Number.NaN;
  const perOk = (f: (x: CannonSlice) => number | undefined): number | undefined => {
    const values = slices.map(f);
    if (ok === 0 || values.some((v) => v === undefined)) return undefined;
    return Math.round(values.reduce((n: number, v) => n + (v ?? 0), 0) / ok);
  };
  const client = perOk((x) => x.cpu?.clientUs);
  const server = perOk((x) => x.cpu?.serverUs);
  return {
    ops_per_s: seconds > 0 ? ok / seconds : 0,
    p50_ms: weighted((x) => x.p50),
    p99_ms: Math.max(...slices.map((x) => x.p99)),
    mean_ms: weighted((x) => x.mean),
    ok,
    failed: slices.reduce((n, x) => n + x.failed, 0),
    ...(client !== undefined ? { client_cpu_us: client } : {}),
    ...(server !== undefined ? { server_cpu_us: server } : {}),
  };
}

/**
 * Slices per side: the settings' count and length, but at least 5 of 2 s. A ratio of two
 * throughputs on a shared 2-core machine moves with whatever else runs: with `--quick`'s 3 × 1 s one
 * busy second on one side moved it by a third (0.45–0.66 in consecutive runs). And each autocannon
 * load opens its connections and drops the requests in flight when it stops, which the in-process
 * loop does not: back to back after the warm-up, 1 s loads gave 407–629 req/s where 2.5 s loads in
 * between gave 438–728 (mean 520 vs 609).
 */
export function httpSlices(s: { slices: number; sliceMs: number }): { count: number; ms: number } {
  return { count: Math.max(5, s.slices), ms: Math.max(2_000, s.sliceMs) };
}

interface Pair {
  /** One slice of the in-process handler (runLoad, `connections` at a time). */
  handler: (durationMs: number) => Promise<LoadResult>;
  /** One slice over HTTP (autocannon, `connections` connections). */
  http: (seconds: number) => Promise<autocannon.Result>;
  /** The serverless-offline process, for the HTTP slices' CPU (undefined: not reported). */
  offlinePid: number | undefined;
}

/**
 * The HTTP row and its in-process reference in interleaved slices (handler, HTTP, handler, HTTP, …;
 * the settings' `slices` × `sliceMs`), after a warm-up of each, as the order pairs run: a change in
 * the shared machine's load, or the tail of serverless-offline's start (bundling, the file watcher's
 * first scan), lands on both sides instead of on whichever ran second.
 */
async function runPair(ctx: BenchContext, pair: Pair, warmupS: number): Promise<{ handler: Summary; http: Summary }> {
  const s = ctx.settings;
  // The same warm-up for both sides (JIT, pools, buffer pool).
  await pair.http(warmupS);
  await pair.handler(warmupS * 1000);
  const handler: LoadResult[] = [];
  const http: CannonSlice[] = [];
  const slices = httpSlices(s);
  for (let i = 0; i < slices.count; i++) {
    handler.push(await pair.handler(slices.ms));
    http.push(await measuredSlice(pair.offlinePid, () => pair.http(slices.ms / 1000)));
  }
  const merged = mergeResults(handler);
  if (merged.failed > 0) ctx.log(`  !! in-process reference: failures ${JSON.stringify(merged.errors)}`);
  return { handler: summarise(merged), http: mergeSlices(http) };
}

/**
 * `npm run dev`'s settings: GET /products and POST /orders over HTTP, each interleaved with the
 * in-process handler at the same concurrency and pool size, same database, same requests (rows
 * handler_list_http_ref, handler_order_http_ref: the denominators of `http_*_vs_handler`).
 */
async function runDevMode(
  ctx: BenchContext,
  products: OrderProducts,
  connections: number,
  flags: string[],
  mode: string,
  warmupS: number,
): Promise<void> {
  ctx.log(`serverless-offline (${flags.join(' ') || 'worker threads'}, as npm run dev): starting`);
  const offline = await startBenchOffline(ctx, flags);
  const restoreOutput = await overrideProcessEnv(HANDLER_OUTPUT);
  // The reference runs as a bundle made like serverless-offline's (bench/lib/bundle.ts), with its
  // own pool and its own Logger and Metrics, made on its first request with the output above.
  const bundle = await loadBundle<HttpHandlersBundle>(ctx.repoRoot, 'bench/lib/http-handlers-entry.ts', 'http');
  const restoreBundle = await bundle.pointProcessAt(ctx.runUrl, {
    DB_POOL_SIZE: String(HTTP_POOL_SIZE),
    DATABASE_READ_URL: undefined,
  });
  const list = bundle.listProducts;
  const create = bundle.createOrder;
  const stdout = stdoutToDevNull();
  const pid = offlinePid(offline.baseUrl);
  const note = `${connections} at a time, pool ${HTTP_POOL_SIZE}, interleaved with the HTTP row`;
  const httpCpu = 'CPU: serverless-offline + autocannon';
  try {
    const { count, ms } = httpSlices(ctx.settings);
    const slicing = `${count} interleaved slices of ${ms / 1000} s each`;
    ctx.log(`http_list_${mode} vs handler_list_http_ref (${connections} connections, ${slicing})`);
    const getList = async () => {
      const reply = await invoke(list, { method: 'GET', path: '/products' }, 'listProducts');
      if (reply.status !== 200) throw unexpected(reply, 200);
    };
    // What the reference writes per request, to compare with the offline process's (one log line
    // and one EMF document: tests/e2e/offline-settings.e2e.test.ts).
    const before = stdout.bytes();
    await getList();
    const bytes = stdout.bytes() - before;
    ctx.details.http_reference_stdout_bytes_per_list = bytes;
    ctx.log(`  the in-process reference writes ${bytes} bytes to stdout per GET /products`);
    const lists = await runPair(
      ctx,
      {
        handler: (durationMs) => runLoad(getList, { concurrency: connections, durationMs }),
        http: (duration) => cannon({ url: `${offline.baseUrl}/products`, connections, duration }),
        offlinePid: pid,
      },
      warmupS,
    );
    addRow(ctx, 'handler_list_http_ref', lists.handler, `GET /products, in-process handler, ${note}`);
    addRow(ctx, `http_list_${mode}`, lists.http, `GET /products, pool ${HTTP_POOL_SIZE} per instance, ${httpCpu}`);

    // One audit covers both sides: they order from the same products.
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
      ctx.log(`http_order_${mode} vs handler_order_http_ref (${connections} connections, ${slicing})`);
      const orders = await runPair(
        ctx,
        {
          handler: (durationMs) => runLoad(placeOrder, { concurrency: connections, durationMs }),
          http: (duration) => placeOrdersOverHttp(offline, products, tracker, connections, duration),
          offlinePid: pid,
        },
        warmupS,
      );
      // Requests still in flight when autocannon stopped may commit after it returned.
      await new Promise((r) => setTimeout(r, 1_000));
      recordAudit(ctx, `http_order_${mode} + handler_order_http_ref`, await tracker.audit(c));
      addRow(ctx, 'handler_order_http_ref', orders.handler, `POST /orders (10k products), in-process handler, ${note}`);
      addRow(
        ctx,
        `http_order_${mode}`,
        orders.http,
        `POST /orders (10k products), pool ${HTTP_POOL_SIZE} per instance, ${httpCpu}`,
      );
    } finally {
      await c.end();
    }
  } finally {
    stdout.restore();
    await restoreBundle();
    await restoreOutput();
    await offline.stop();
  }
}

/** POST /orders over HTTP for `duration` s; every 201 is added to `tracker`. */
function placeOrdersOverHttp(
  offline: Offline,
  products: OrderProducts,
  tracker: StockTracker,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  return cannon({
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
}

/** The other offline mode, for contrast: one warm-up and one load per request kind, no reference. */
async function runContrastMode(
  ctx: BenchContext,
  products: OrderProducts,
  connections: number,
  flags: string[],
  mode: string,
  warmupS: number,
): Promise<void> {
  const seconds = Math.max(1, Math.round(ctx.settings.durationMs / 1000));
  ctx.log(`serverless-offline (${flags.join(' ') || 'worker threads'}): starting`);
  const offline = await startBenchOffline(ctx, flags);
  try {
    // Warm-up: every concurrent instance loads its module and opens its pool before measuring.
    await cannon({ url: `${offline.baseUrl}/products`, connections, duration: warmupS });
    ctx.log(`http_list_${mode} (${connections} connections, ${seconds} s)`);
    const list = await cannon({ url: `${offline.baseUrl}/products`, connections, duration: seconds });
    addRow(
      ctx,
      `http_list_${mode}`,
      mergeSlices([sliceOf(list)]),
      `GET /products, pool ${HTTP_POOL_SIZE} per instance`,
    );

    const tracker = new StockTracker(products.spreadIds);
    const c = await connect(ctx.runUrl);
    try {
      await tracker.snapshot(c);
      await placeOrdersOverHttp(offline, products, tracker, connections, warmupS); // the createOrder instances warm up too
      ctx.log(`http_order_${mode} (${connections} connections, ${seconds} s)`);
      const orders = await placeOrdersOverHttp(offline, products, tracker, connections, seconds);
      await new Promise((r) => setTimeout(r, 1_000));
      recordAudit(ctx, `http_order_${mode}`, await tracker.audit(c));
      addRow(
        ctx,
        `http_order_${mode}`,
        mergeSlices([sliceOf(orders)]),
        `POST /orders (10k products), pool ${HTTP_POOL_SIZE} per instance`,
      );
    } finally {
      await c.end();
    }
  } finally {
    await offline.stop();
  }
}

export async function runHttp(ctx: BenchContext, products: OrderProducts, connections: number): Promise<void> {
  // Long enough for serverless-offline to reach its steady rate: measured second by second right
  // after its start (GET /products, 4 connections), it climbed 108, 232, 356, 449, 523, 581 req/s
  // and only then levelled off (530-670), JIT warming Hapi, serverless-offline and the bundle. The
  // old 2 s warm-up measured it on that slope, against an in-process reference already warm.
  const warmupS = 8;
  const dev = devOfflineFlags({});
  const devMode = dev.includes('--useInProcess') ? 'in_process' : 'workers';
  ctx.details.http_mode = devMode;
  ctx.details.http_dev_flags = dev;
  // npm run dev's settings first, with the in-process reference; the other mode for contrast.
  await runDevMode(ctx, products, connections, dev, devMode, warmupS);
  if (devMode === 'in_process') await runContrastMode(ctx, products, connections, [], 'workers', warmupS);
  else await runContrastMode(ctx, products, connections, ['--useInProcess'], 'in_process', warmupS);
}
