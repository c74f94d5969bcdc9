/**
 * Client CPU per order WITHOUT the database's noise: the raw reference and the order handler of
 * one or two checkouts place hot orders against recorded database answers. Each distinct statement
 * text is sent to the real server the first few times (the answers are recorded); after that,
 * mysql2's `query` answers from the recording on the next turn of the event loop, without the
 * socket, the server or the driver's parsing. What is left is the JavaScript each side runs per
 * order, which on this shared 2-core machine decides the CPU-bound ratios of the benchmark, measured
 * in one process with nothing else running. Each checkout's handler is bundled as a deploy bundles
 * it (bench/lib/bundle.ts); `--a-source` loads A's sources through tsx instead, as the tests do.
 * Rounds alternate A and B with a collection before each; the medians differ by about 3 µs between
 * two identical checkouts on this machine.
 *
 * Not a benchmark row (orders are not really placed): a tool for judging a change to the handler.
 *
 *   node --expose-gc --import tsx bench/client-cpu.ts [--a=/work/main] [--b=.] [--a-source] [--raw]
 *     [--seconds=2] [--rounds=15] [--concurrency=32]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import type { Handler } from '../scripts/lib/lambda';
import { loadBundle } from './lib/bundle';
import { parseArgs } from 'node:util';
import type { BenchContext } from './lib/context';
import { dropRunDatabase, freshDatabase, openServer } from './lib/databases';
import { runLoad } from './lib/load';
import { discardStdout } from './lib/stdout';
import { singleLine } from './lib/workload';
import { orderThrough } from './scenarios/order-handler';
import { bundledRaw, ensureLockLastSchema, type Placer, rawPlacers, setupOrderProducts } from './scenarios/orders';

type Callback = (error: unknown, result?: unknown, fields?: unknown) => void;
type QueryFn = (this: unknown, sql: unknown, values?: unknown, cb?: unknown) => unknown;

const RECORD_TIMES = 20;

/** Patches the `query` of one copy of mysql2 (each checkout has its own) to answer from recordings. */
function replayQueries(mysql2Root: string): void {
  const proto = (require(`${mysql2Root}/lib/base/connection.js`) as { prototype: { query: QueryFn } }).prototype;
  const marked = proto as { query: QueryFn; replaying?: boolean };
  if (marked.replaying) return;
  marked.replaying = true;
  const real = proto.query;
  const recorded = new Map<string, { seen: number; answer?: [unknown, unknown] }>();
  proto.query = function (this: unknown, sql: unknown, values?: unknown, cb?: unknown) {
    const callback = (typeof values === 'function' ? values : cb) as Callback | undefined;
    if (typeof sql !== 'string' || !callback) return real.call(this, sql, values, cb);
    const entry = recorded.get(sql) ?? { seen: 0 };
    recorded.set(sql, entry);
    if (entry.answer && entry.seen >= RECORD_TIMES) {
      const [result, fields] = entry.answer;
      setImmediate(() => callback(null, result, fields));
      return undefined;
    }
    entry.seen++;
    return real.call(this, sql, values, (error: unknown, result: unknown, fields: unknown) => {
      if (!error) entry.answer = [result, fields];
      callback(error, result, fields);
    });
  };
}

/**
 * A checkout's order handler, bundled with that checkout's own serverless.yml settings (bench/lib/bundle.ts),
 * its pool pointed at `url` through the environment its configuration reads on first use.
 */
async function handlerOf(
  root: string,
  name: string,
  url: string,
  poolSize: number,
  source = false,
  readable = false,
): Promise<Placer> {
  const abs = resolve(root);
  replayQueries(`${abs}/node_modules/mysql2`);
  let handler: Handler;
  if (source) {
    const { pointProcessAt } = require(`${abs}/scripts/lib/process-db`) as {
      pointProcessAt: (u: string, env: Record<string, string | undefined>) => Promise<unknown>;
    };
    await pointProcessAt(url, { DB_POOL_SIZE: String(poolSize) });
    handler = (require(`${abs}/functions/orders/create-order`) as { handler: Handler }).handler;
  } else {
    // Read by the bundle's configuration on its first request.
    process.env.DATABASE_URL = url;
    process.env.DB_POOL_SIZE = String(poolSize);
    // --readable: not minified, so a profile names the functions (V8 runs the same code either way).
    const bundle = await loadBundle<{ handler: Handler }>(
      abs,
      'functions/orders/create-order.ts',
      `client-cpu-${name}`,
      readable ? { minify: false } : {},
    );
    handler = bundle.handler;
  }
  // The pool is not reachable from here (a bundle's is its own); the process ends after the run.
  return { name, place: orderThrough(handler), close: async () => undefined };
}

async function main() {
  const { values } = parseArgs({
    options: {
      a: { type: 'string', default: '/work/main' },
      b: { type: 'string' },
      seconds: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '15' },
      concurrency: { type: 'string', default: '32' },
      raw: { type: 'boolean', default: false },
      'a-source': { type: 'boolean', default: false },
      lines: { type: 'string', default: '1' },
      profile: { type: 'string' },
      readable: { type: 'boolean', default: false },
    },
  });
  const concurrency = Number(values.concurrency);
  const server = await openServer();
  const run = await freshDatabase(server);
  const log = (l: string) => console.error(l);
  const ctx = { runUrl: run.url, repoRoot: resolve(__dirname, '..'), log } as unknown as BenchContext;
  const stdout = discardStdout();
  const placers: Placer[] = [];
  try {
    await ensureLockLastSchema(run.url, log);
    const products = await setupOrderProducts(ctx, 100);
    // The raw reference shares this checkout's modules (lib/db/compiled.ts, mysql2) with a handler
    // loaded from the same checkout, which makes their call sites polymorphic: compare A with B
    // without it, and add it (--raw) only for a rough scale.
    if (values.raw) {
      replayQueries(resolve(__dirname, '..', 'node_modules/mysql2'));
      placers.push(rawPlacers(run.url, concurrency, await bundledRaw(resolve(__dirname, '..'))).lockLast);
    }
    placers.push(await handlerOf(values.a, 'A', run.url, concurrency, values['a-source'], values.readable));
    if (values.b) placers.push(await handlerOf(values.b, 'B', run.url, concurrency, false, values.readable));
    // One line on the hot product, or the same N products every time (the recorded answers are theirs).
    const n = Number(values.lines);
    const fixed = products.spreadIds.slice(0, n).map((productId) => ({ productId, quantity: 1 }));
    const order = () => (n === 1 ? singleLine(products, 'hot') : fixed);
    for (const p of placers) {
      const t = Date.now();
      await Promise.race([
        p.place(order()),
        new Promise((_, rej) => setTimeout(() => rej(new Error(`${p.name}: no answer in 10 s`)), 10_000)),
      ]);
      log(`${p.name}: first order in ${Date.now() - t} ms`);
    }
    const cpu = new Map<string, number[]>();
    const ms = Number(values.seconds) * 1000;
    for (const p of placers) await runLoad(() => p.place(order()), { concurrency, durationMs: ms });
    // --profile=<file>: V8's CPU profile of the measured rounds (for chrome://inspect or a script).
    const session = values.profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const p of placers) {
        // A collection between runs, so that no run pays for another's garbage.
        (globalThis as { gc?: () => void }).gc?.();
        const r = await runLoad(() => p.place(order()), { concurrency, durationMs: ms });
        if (r.failed > 0) throw new Error(`${p.name}: ${JSON.stringify(r.errors)}`);
        cpu.set(p.name, [...(cpu.get(p.name) ?? []), (r.cpu?.clientUs ?? 0) / r.ok]);
      }
    }
    if (session && values.profile) {
      const { profile } = (await session.post('Profiler.stop')) as { profile: object };
      writeFileSync(values.profile, JSON.stringify(profile));
    }
    stdout.restore();
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    const raw = median(cpu.get('raw') ?? cpu.get('A') ?? []);
    for (const [name, xs] of cpu) {
      const m = median(xs);
      console.log(
        `${name.padEnd(4)} median ${m.toFixed(1).padStart(6)} µs/order (rounds ${xs.map((x) => x.toFixed(1)).join(', ')})  over ${values.raw ? 'raw' : 'A'} +${(m - raw).toFixed(1)}`,
      );
    }
  } finally {
    stdout.restore();
    for (const p of placers) await p.close().catch(() => undefined);
    await dropRunDatabase(server, run.name);
    await server.resolved.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
