/**
 * `npm run bench` (full) and `npm run bench -- --quick` (a few minutes).
 *
 * One run: find the database server, create a fresh run database (and a 1,000-product catalogue),
 * reuse or seed the 1,000,000-product catalogue, run every scenario against those databases, print
 * the table, and write bench/results/latest.json (the shape), latest-details.json (every
 * figure, with CPU per operation, bundles, audits) and latest.md (the tables in markdown).
 *
 * Options: --quick, --only=<group,…> (orders, size, catalogue, http, cold), --concurrency=N (32),
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
import { CREATE_ORDER, handlerPlacer } from './scenarios/order-handler';
import { runOrderSizes } from './scenarios/order-size';
import { type Placer, rawPlacer, runOrderPairs, setupOrderProducts } from './scenarios/orders';

export const GROUPS = ['orders', 'size', 'catalogue', 'http', 'cold'] as const;

export function parseSettings(argv: string[]): Settings & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      keep: { type: 'boolean', default: false },
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
  const quick = values.quick === true;
  return {
    help: values.help === true,
    quick,
    concurrency,
    durationMs: quick ? 3_000 : 10_000,
    warmupMs: quick ? 500 : 2_000,
    slices: quick ? 3 : 8,
    sliceMs: quick ? 1_000 : 2_500,
    readDurationMs: quick ? 2_000 : 5_000,
    coldStartRuns: quick ? 3 : 7,
    catalogueSize: 1_000_000,
    catalogueName: CATALOGUE_DB,
    keep: values.keep === true,
    only,
  };
}

const wants = (s: Settings, group: (typeof GROUPS)[number]) => s.only === undefined || s.only.has(group);

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  if (settings.help) {
    console.log(
      'usage: npm run bench [-- --quick] [--only=orders,size,catalogue,http,cold] [--concurrency=32] [--keep]',
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
    const raw = rawPlacer(run.url, settings.concurrency);
    cleanups.push(() => raw.close());
    let handler: Placer | undefined;
    if (!hasOrders) log(`${CREATE_ORDER} not found: order handler scenarios skipped`);
    const orderHandler = async () => {
      if (hasOrders) handler ??= await handlerPlacer(ctx, settings.concurrency);
      return handler;
    };

    await group('orders', async () => {
      const h = await orderHandler();
      await runOrderPairs(ctx, await orderProducts(), h ? [raw, h] : [raw]);
    });
    await group('size', async () => {
      const h = await orderHandler();
      if (h) await runOrderSizes(ctx, await orderProducts(), h, raw);
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
