/**
 * `npm run bench` (full) and `npm run bench -- --quick` (a few minutes).
 *
 * One run: find the database server, create a fresh run database (and a 1,000-product catalogue),
 * reuse or seed the 1,000,000-product catalogue, run every scenario against those databases, print
 * the table, and write bench/results/latest.json (the shape), latest-details.json (every
 * figure, with CPU per operation, bundles, audits) and latest.md (the tables in markdown).
 *
 * Options: --quick, --only=<group,…> (orders, size, curve, shards, catalogue, http, cold), --concurrency=N (32),
 * --keep (keep the run databases), --help.
 *
 * Tooling, not the app: like the test setup, it sets DATABASE_URL / DB_POOL_SIZE for the handlers
 * it loads in-process and resets lib/config.ts between databases.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext, Settings } from './lib/context';
import {
  CATALOGUE_DB,
  dropRunDatabase,
  dropStaleRunDatabases,
  ensureCatalogue,
  freshDatabase,
  openServer,
  runSeedScript,
} from './lib/databases';
import { describeMachine, machineLine, round2 } from './lib/machine';
import { buildReport, printReport, renderReport } from './lib/report';
import { discardStdout } from './lib/stdout';
import { closeDb } from '../lib/db/client';
import type { OrderProducts } from './lib/workload';
import { LIST_PRODUCTS, runCatalogue } from './scenarios/catalogue';
import { runColdStart } from './scenarios/cold-start';
import { HTTP_CONNECTIONS, runHttp } from './scenarios/http';
import { type LatencyProxy, startLatencyProxy } from './lib/latency-proxy';
import { runHotCurve } from './scenarios/hot-curve';
import { runShardCurve } from './scenarios/shard-curve';
import { measureLockRoundTrips } from './scenarios/lock-round-trips';
import { CREATE_ORDER, type HandlerPlacer, handlerPlacer } from './scenarios/order-handler';
import { runOrderSizes } from './scenarios/order-size';
import {
  ensureLockLastSchema,
  type Network,
  type Placer,
  type PlacerSet,
  type RawModule,
  rawPlacers,
  bundledRaw,
  runOrderPairs,
  setupOrderProducts,
} from './scenarios/orders';

export const GROUPS = ['orders', 'size', 'curve', 'shards', 'catalogue', 'http', 'cold'] as const;

export function parseSettings(argv: string[]): Settings & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      keep: { type: 'boolean', default: false },
      'latency-ms': { type: 'string', default: '1' },
      'catalogue-size': { type: 'string', default: '1000000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error('--concurrency must be 1–64');
  let only: Set<string> | undefined;
  if (values.only !== undefined) {
    only = new Set(
      values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    for (const g of only)
      if (!(GROUPS as readonly string[]).includes(g))
        throw new Error(`--only: unknown group ${g} (${GROUPS.join(', ')})`);
  }
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 50) throw new Error('--latency-ms must be 0–50');
  const quick = values.quick === true;
  // A smaller large catalogue for trying scenarios out (kept under its own name); results use 1M.
  const catalogueSize = Number(values['catalogue-size']);
  if (!Number.isInteger(catalogueSize) || catalogueSize < 10_000 || catalogueSize > 1_000_000)
    throw new Error('--catalogue-size must be 10000–1000000');
  return {
    help: values.help === true,
    quick,
    concurrency,
    durationMs: quick ? 3_000 : 10_000,
    // The same warm-up in both modes: the handler has far more code than raw mysql2 for V8 to
    // compile, and with both cores busy its optimizing compiler runs late. After 0.5 s the handler
    // was still at 844 µs of CPU per hot order and 0.66 of raw; after 2 s, 610 µs and 0.85
    // (docs/performance.md). Steady state is what the rows compare.
    warmupMs: 2_000,
    slices: quick ? 3 : 8,
    sliceMs: quick ? 1_000 : 2_500,
    readDurationMs: quick ? 2_000 : 5_000,
    coldStartRuns: quick ? 3 : 7,
    catalogueSize,
    catalogueName: catalogueSize === 1_000_000 ? CATALOGUE_DB : `${CATALOGUE_DB}_${catalogueSize}`,
    keep: values.keep === true,
    only,
    latencyMs,
  };
}

const wants = (s: Settings, group: (typeof GROUPS)[number]) => s.only === undefined || s.only.has(group);

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  if (settings.help) {
    console.log(
      'usage: npm run bench [-- --quick] [--only=orders,size,curve,shards,catalogue,http,cold] [--latency-ms=1] [--concurrency=32] [--catalogue-size=1000000] [--keep]',
    );
    return;
  }
  const started = Date.now();
  const log = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const repoRoot = resolve(__dirname, '..');

  const server = await openServer();
  log(`server: ${server.version} (${server.resolved.source})`);
  const machine = describeMachine(server.version);
  await dropStaleRunDatabases(server);
  const run = await freshDatabase(server);
  log(`run database: ${run.name}`);
  const ctx: BenchContext = {
    settings,
    server,
    machine,
    repoRoot,
    runUrl: run.url,
    rows: [],
    audits: [],
    details: {},
    log,
  };
  const cleanups: Array<() => Promise<void>> = [];
  const failures: Record<string, string> = {};
  // A group that fails is reported and the run goes on: the other figures are still worth having.
  const group = async (name: (typeof GROUPS)[number], fn: () => Promise<void>) => {
    if (!wants(settings, name)) return;
    try {
      await fn();
    } catch (err) {
      failures[name] = err instanceof Error ? err.message : String(err);
      log(`!! ${name} failed: ${failures[name]}`);
    }
  };
  try {
    const hasOrders = existsSync(join(repoRoot, CREATE_ORDER));
    const hasList = existsSync(join(repoRoot, LIST_PRODUCTS));
    let products: OrderProducts | undefined;
    const orderProducts = async () => {
      products ??= await setupOrderProducts(ctx);
      return products;
    };
    // The handlers' log and metric lines are produced as in Lambda, but not written to the terminal.
    const stdout = discardStdout();
    cleanups.push(async () => stdout.restore());
    if (!hasOrders) log(`${CREATE_ORDER} not found: order handler scenarios skipped`);
    // Both sides run as bundles made with serverless.yml's esbuild settings (bench/lib/bundle.ts),
    // built on first use. The handler's bundle has its own pool: it is pointed at the network a load
    // runs on, as large as the raw pools.
    let handler: HandlerPlacer | undefined;
    let raw: RawModule | undefined;
    let handlerUrl: string | undefined;
    const placersFor = async (network: Network): Promise<Placer[]> => {
      raw ??= await bundledRaw(repoRoot);
      if (hasOrders && !handler) {
        const h = await handlerPlacer(ctx);
        handler = h;
        cleanups.push(() => h.close());
      }
      const { naive, lockLast: best } = rawPlacers(network.url, settings.concurrency, raw);
      if (handler && handlerUrl !== network.url) {
        await handler.pointAt(network.url, settings.concurrency);
        handlerUrl = network.url;
      }
      return handler ? [naive, best, handler] : [naive, best];
    };
    // Every order scenario runs on loopback and through the latency proxy, in the same run.
    let proxy: LatencyProxy | undefined;
    const networks = async (): Promise<Network[]> => {
      const loopback: Network = { label: 'loopback', suffix: '', url: run.url, oneWayMs: 0 };
      if (settings.latencyMs <= 0) return [loopback];
      if (!proxy) {
        proxy = await startLatencyProxy(run.url, settings.latencyMs);
        const p = proxy;
        cleanups.push(async () => {
          ctx.details.latency_proxy = { one_way_ms: p.oneWayMs, ...(await p.stats()) };
          await p.close();
        });
      }
      const through = `${settings.latencyMs} ms one way`;
      return [loopback, { label: through, suffix: '_latency', url: proxy.url(run.url), oneWayMs: settings.latencyMs }];
    };
    const withPlacers = async (network: Network, fn: (set: PlacerSet) => Promise<void>) => {
      const placers = await placersFor(network);
      try {
        await fn({ network, placers });
      } finally {
        for (const p of placers) if (p !== handler) await p.close();
      }
    };
    let schemaChecked = false;
    const lockLastSchema = async () => {
      if (schemaChecked) return;
      schemaChecked = true;
      ctx.details.order_lines_product_fk = await ensureLockLastSchema(ctx.runUrl, log);
    };

    await group('orders', async () => {
      await lockLastSchema();
      const products = await orderProducts();
      for (const network of await networks()) {
        await withPlacers(network, async (set) => {
          await runOrderPairs(ctx, products, set);
          const [naive, best, h] = set.placers;
          if (network.suffix === '' && h && naive && best) {
            try {
              ctx.details.lock_round_trips = await measureLockRoundTrips(
                ctx,
                [{ productId: products.hotId, quantity: 1 }],
                { handler: h, raw: best, rawNaive: naive },
              );
            } catch (err) {
              failures.lock_round_trips = err instanceof Error ? err.message : String(err);
              log(`!! lock round trips not measured: ${failures.lock_round_trips}`);
            }
          }
        });
      }
    });
    await group('size', async () => {
      await lockLastSchema();
      const products = await orderProducts();
      for (const network of await networks()) await withPlacers(network, (set) => runOrderSizes(ctx, products, set));
    });
    await group('curve', async () => {
      await lockLastSchema();
      log('hot-product capacity curve');
      ctx.details.hot_curve = await runHotCurve(ctx, await orderProducts(), placersFor);
    });
    await group('shards', async () => {
      await lockLastSchema();
      const through = (await networks()).at(-1);
      if (!through) return;
      log(`capacity per shard count (${through.label})`);
      ctx.details.shard_curve = await runShardCurve(ctx, through, placersFor);
    });
    await group('catalogue', async () => {
      if (!hasList) {
        log(`${LIST_PRODUCTS} not found: catalogue scenarios skipped`);
        return;
      }
      const small = await freshDatabase(server, '_1k');
      cleanups.push(() => (settings.keep ? Promise.resolve() : dropRunDatabase(server, small.name)));
      // Both catalogues come from npm run seed, so their rows look alike and only the size differs.
      await runSeedScript(repoRoot, small.url, 1_000, () => undefined);
      const large = await ensureCatalogue(server, repoRoot, settings.catalogueSize, settings.catalogueName, log);
      if (large.seededMs !== undefined) ctx.details.catalogue_seed_s = Math.round(large.seededMs / 100) / 10;
      await runCatalogue(ctx, small.url, large.url, settings.catalogueSize);
    });
    await closeDb();
    stdout.restore();
    await group('http', async () => {
      if (!hasOrders || !hasList) log('handlers not found: HTTP scenarios skipped');
      else await runHttp(ctx, await orderProducts(), Math.min(settings.concurrency, HTTP_CONNECTIONS));
      await closeDb();
    });
    await group('cold', async () => {
      log('cold start: osls package, then module init per function');
      ctx.details.cold_start = await runColdStart({ repoRoot, runs: settings.coldStartRuns, log });
    });
    if (Object.keys(failures).length > 0) ctx.details.failures = failures;
  } finally {
    for (const c of cleanups.reverse()) await c();
    if (!settings.keep) await dropRunDatabase(server, run.name);
    await server.resolved.stop();
  }
  machine.load_end = round2(loadavg()[0] ?? 0);
  const report = buildReport(ctx, machineLine(machine), (Date.now() - started) / 1000);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report.latest, null, 2)}\n`);
  writeFileSync(join(dir, 'latest-details.json'), `${JSON.stringify(report.details, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderReport(report, true));
  printReport(report);
  log(`wrote bench/results/latest.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (Object.keys(failures).length > 0) {
    log(`failed groups: ${Object.keys(failures).join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
