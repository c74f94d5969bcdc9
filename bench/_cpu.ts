import { openServer, freshDatabase, dropRunDatabase } from './lib/databases';
import { runLoad } from './lib/load';
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
  const res: Record<string, number[]> = { raw: [], order: [] };
  for (let round = 0; round < 3; round++)
    for (const p of [raw, h]) {
      await runLoad(async () => p.place(singleLine(products, 'spread')), { concurrency: 32, durationMs: 500 });
      const c0 = process.cpuUsage();
      const r = await runLoad(async () => p.place(singleLine(products, 'spread')), {
        concurrency: 32,
        durationMs: 3000,
      });
      const c1 = process.cpuUsage(c0);
      res[p.name]!.push((c1.user + c1.system) / r.ok);
    }
  out.restore();
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
  console.error(
    process.argv[2] ?? '',
    'raw µs/order',
    med(res.raw!).toFixed(0),
    'handler',
    med(res.order!).toFixed(0),
    'extra',
    (med(res.order!) - med(res.raw!)).toFixed(0),
  );
  await raw.close();
  await h.close();
  await dropRunDatabase(server, run.name);
}
main();
