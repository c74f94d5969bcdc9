/**
 * Where an order's client CPU goes: runs ONE placer (the handler, or the raw lock-last reference)
 * alone for a few seconds, on loopback or through the latency proxy, under V8's CPU profiler, and
 * prints self time per function and per package, the garbage collector's share, and CPU µs/order.
 *
 *   npx tsx bench/profile.ts --placer=order --shape=hot --latency-ms=1 --seconds=5 [--out=p.cpuprofile]
 *
 * The proxy's worker thread is not in the profile (only this thread is); its CPU is in the
 * process's total, as in the benchmark's rows.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from './lib/context';
import { dropRunDatabase, freshDatabase, openServer } from './lib/databases';
import { startLatencyProxy } from './lib/latency-proxy';
import { runLoad } from './lib/load';
import { discardStdout } from './lib/stdout';
import { handlerPlacer } from './scenarios/order-handler';
import { bundledRaw, ensureLockLastSchema, type Placer, rawPlacers, setupOrderProducts } from './scenarios/orders';
import { singleLine } from './lib/workload';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function where(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:') || url === '') return url === '' ? '(native/vm)' : 'node';
  const root = resolve(__dirname, '..');
  const p = url.replace('file://', '');
  return p.startsWith(root)
    ? p
        .slice(root.length + 1)
        .split('/')
        .slice(0, 2)
        .join('/')
    : p;
}

async function main() {
  const { values } = parseArgs({
    options: {
      placer: { type: 'string', default: 'order' },
      shape: { type: 'string', default: 'hot' },
      'latency-ms': { type: 'string', default: '1' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
      out: { type: 'string' },
      top: { type: 'string', default: '40' },
      noprof: { type: 'boolean', default: false },
      focus: { type: 'string' },
    },
  });
  const latency = Number(values['latency-ms']);
  const concurrency = Number(values.concurrency);
  const server = await openServer();
  const run = await freshDatabase(server);
  const log = (l: string) => console.error(l);
  const ctx = { runUrl: run.url, repoRoot: resolve(__dirname, '..'), log } as unknown as BenchContext;
  const stdout = discardStdout();
  const proxy = latency > 0 ? await startLatencyProxy(run.url, latency) : undefined;
  let placer: Placer | undefined;
  try {
    await ensureLockLastSchema(run.url, log);
    const products = await setupOrderProducts(ctx, 10_000);
    const url = proxy ? proxy.url(run.url) : run.url;
    if (values.placer === 'order') {
      const h = await handlerPlacer(ctx);
      await h.pointAt(url, concurrency);
      placer = h;
    } else {
      const { naive, lockLast } = rawPlacers(url, concurrency, await bundledRaw(ctx.repoRoot));
      placer = values.placer === 'raw_naive' ? naive : lockLast;
    }
    const p = placer;
    const op = () => p.place(singleLine(products, values.shape as 'hot' | 'spread'));
    await runLoad(op, { concurrency, durationMs: Number(values.warmup) * 1000 });

    let gcMs = 0;
    let gcCount = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gcMs += e.duration;
        gcCount++;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    const session = new Session();
    session.connect();
    if (!values.noprof) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    log(`measuring pid ${process.pid}`);
    const r = await runLoad(op, { concurrency, durationMs: Number(values.seconds) * 1000 });
    const prof = !values.noprof
      ? (
          (await session.post('Profiler.stop')) as {
            profile: { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
          }
        ).profile
      : undefined;
    obs.disconnect();
    const perOrder = (us: number) => (us / r.ok).toFixed(0);
    const lines: string[] = [];
    lines.push(
      `${values.placer} ${values.shape} at ${latency} ms: ${(r.ok / (r.elapsedMs / 1000)).toFixed(0)}/s, client CPU ${perOrder(r.cpu?.clientUs ?? 0)} µs/order, server ${perOrder(r.cpu?.serverUs ?? 0)} µs/order, GC ${perOrder(gcMs * 1000)} µs/order (${gcCount} pauses)`,
    );
    if (prof) {
      if (values.out) writeFileSync(values.out, JSON.stringify(prof));
      const total = prof.samples.length;
      const usPerSample = (prof.endTime - prof.startTime) / total;
      const byFn = new Map<string, number>();
      const byPkg = new Map<string, number>();
      const hits = new Map<number, number>();
      for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
      for (const n of prof.nodes) {
        const h = hits.get(n.id) ?? 0;
        if (h === 0) continue;
        const f = n.callFrame;
        const key = `${f.functionName || '(anon)'} ${where(f.url)}:${f.lineNumber + 1}`;
        byFn.set(key, (byFn.get(key) ?? 0) + h);
        const pkg = f.url === '' ? f.functionName : where(f.url);
        byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + h);
      }
      const show = (m: Map<string, number>, n: number) =>
        [...m.entries()]
          .filter(([k]) => k !== '(idle)' && !k.startsWith('(idle)'))
          .sort((a, b) => b[1] - a[1])
          .slice(0, n)
          .map(([k, v]) => `${((v * usPerSample) / r.ok).toFixed(1).padStart(7)} µs/order  ${k}`);
      const busy = [...byFn.entries()].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
      lines.push(`main thread busy: ${((busy * usPerSample) / r.ok).toFixed(0)} µs/order`);
      // Inclusive time: every distinct function on a sample's stack gets the sample.
      const parent = new Map<number, number>();
      for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const byId = new Map(prof.nodes.map((n) => [n.id, n]));
      const keyOf = (n: ProfileNode) =>
        `${n.callFrame.functionName || '(anon)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      const incl = new Map<string, number>();
      for (const [id, h] of hits) {
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const node = byId.get(cur);
          if (!node) break;
          const k = keyOf(node);
          if (seen.has(k)) continue;
          seen.add(k);
          incl.set(k, (incl.get(k) ?? 0) + h);
        }
      }
      const focus = values.focus ? new RegExp(values.focus) : undefined;
      const inclShown = new Map([...incl].filter(([k]) => (focus ? focus.test(k) : false)));
      lines.push('-- by package --', ...show(byPkg, 25), '-- by function --', ...show(byFn, Number(values.top)));
      if (focus) lines.push('-- inclusive --', ...show(inclShown, 80));
    }
    stdout.restore();
    console.log(lines.join('\n'));
  } finally {
    stdout.restore();
    await placer?.close();
    await proxy?.close();
    await dropRunDatabase(server, run.name);
    await server.resolved.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
