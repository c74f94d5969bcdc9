import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { openServer, freshDatabase, dropRunDatabase } from './lib/databases';
import { runLoad, summarise } from './lib/load';
import { discardStdout } from './lib/stdout';
import { singleLine } from './lib/workload';
import { handlerPlacer } from './scenarios/order-handler';
import { rawPlacer, setupOrderProducts } from './scenarios/orders';
import { describeMachine } from './lib/machine';

async function main() {
  const server = await openServer();
  const run = await freshDatabase(server);
  const ctx: any = {
    settings: {},
    server,
    machine: describeMachine(''),
    repoRoot: process.cwd(),
    runUrl: run.url,
    rows: [],
    audits: [],
    details: {},
    log: console.error,
  };
  const products = await setupOrderProducts(ctx);
  const out = discardStdout();
  const raw = rawPlacer(run.url, 32);
  const h = await handlerPlacer(ctx, 32);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const shape = (process.argv[4] ?? 'spread') as 'spread' | 'hot';
  for (const p of process.argv[2] === 'raw' ? [raw] : process.argv[2] === 'order' ? [h] : [raw, h]) {
    await runLoad(async () => p.place(singleLine(products, shape)), { concurrency: 32, durationMs: 1500 });
    await session.post('Profiler.start');
    const c0 = process.cpuUsage();
    const r = await runLoad(async () => p.place(singleLine(products, shape)), {
      concurrency: 32,
      durationMs: Number(process.argv[3] ?? 5000),
    });
    const c1 = process.cpuUsage(c0);
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`/tmp/prof/${p.name}.cpuprofile`, JSON.stringify(profile));
    const s = summarise(r);
    console.error(
      p.name,
      s.ops_per_s.toFixed(0),
      'ops/s',
      'client cpu per order µs:',
      ((c1.user + c1.system) / r.ok).toFixed(0),
      'user',
      (c1.user / r.ok).toFixed(0),
      'orders',
      r.ok,
    );
  }
  out.restore();
  await raw.close();
  await h.close();
  await dropRunDatabase(server, run.name);
}
main();
