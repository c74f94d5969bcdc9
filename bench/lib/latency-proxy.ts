/**
 * A TCP proxy that delays every chunk by a fixed one-way delay in each direction, so the benchmark
 * can run the order scenarios at the round-trip time of Lambda → RDS Proxy → Aurora (1–2 ms)
 * instead of loopback (≈ 0.05 ms). The benchmark starts and stops it itself.
 *
 * It runs in a worker thread with its own event loop: in the benchmark's thread its timers would
 * fire late whenever the code under test keeps that loop busy, and the heavier client would be
 * charged extra latency. Chunks wait in ONE first-in-first-out queue (the delay is the same for every
 * chunk, so arrival order is due order): order is kept per direction and per connection, and nothing
 * races. Sub-millisecond precision: timers have 1 ms granularity, so the worker sleeps with setTimeout
 * while the head of the queue is more than 1.5 ms away, and in 0.1 ms `Atomics.wait` slices
 * (no CPU while asleep) in between, returning to the event loop after each slice so that chunks
 * arriving meanwhile are stamped at most 0.1 ms late.
 */
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface ProxyOptions {
  /** Where the database server listens. */
  targetHost: string;
  targetPort: number;
  /** Delay per chunk, each direction (ms). 0 forwards at once. */
  oneWayMs: number;
}

export interface ProxyStats {
  connections: number;
  chunks: number;
  bytes: number;
  /** How late chunks left, beyond the delay (ms): mean and max over all chunks. */
  lateMeanMs: number;
  lateMaxMs: number;
}

interface Pending {
  due: number;
  to: Socket;
  chunk: Buffer;
}

const SLICE_MS = 0.1;
const TIMER_ABOVE_MS = 1.5;

/** The proxy itself, in whatever thread calls it. */
export function createLatencyProxy(options: ProxyOptions): {
  server: Server;
  listen: () => Promise<number>;
  stats: () => ProxyStats;
  close: () => Promise<void>;
} {
  const delay = options.oneWayMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const queue: Pending[] = [];
  let head = 0;
  let scheduled = false;
  let connections = 0;
  let chunks = 0;
  let bytes = 0;
  let lateSum = 0;
  let lateMax = 0;
  const sockets = new Set<Socket>();

  const flush = () => {
    const now = performance.now();
    while (head < queue.length) {
      const p = queue[head] as Pending;
      if (p.due > now) break;
      head++;
      const late = now - p.due;
      lateSum += late;
      if (late > lateMax) lateMax = late;
      if (!p.to.destroyed) p.to.write(p.chunk);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };
  const pump = () => {
    scheduled = false;
    if (head >= queue.length) return;
    const wait = (queue[head] as Pending).due - performance.now();
    if (wait > 0) Atomics.wait(sleeper, 0, 0, Math.min(wait, SLICE_MS));
    flush();
    schedule();
  };
  const schedule = () => {
    if (scheduled || head >= queue.length) return;
    scheduled = true;
    const wait = (queue[head] as Pending).due - performance.now();
    if (wait > TIMER_ABOVE_MS) setTimeout(pump, Math.floor(wait - 1));
    else setImmediate(pump);
  };
  const send = (to: Socket, chunk: Buffer) => {
    chunks++;
    bytes += chunk.length;
    if (delay <= 0) {
      to.write(chunk);
      return;
    }
    queue.push({ due: performance.now() + delay, to, chunk });
    schedule();
  };

  const server = createServer((client) => {
    connections++;
    client.setNoDelay(true);
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => send(upstream, d));
    upstream.on('data', (d) => send(client, d));
    // A close travels after the data already queued in its direction (at its own due time).
    const closeAfterDelay = (s: Socket) => () => {
      const end = () => s.end();
      if (delay <= 0) end();
      else setTimeout(end, Math.ceil(delay) + 1);
    };
    client.on('end', closeAfterDelay(upstream));
    upstream.on('end', closeAfterDelay(client));
    const destroy = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', destroy);
    upstream.on('error', destroy);
    client.on('close', () => setTimeout(destroy, Math.ceil(delay) + 5));
    upstream.on('close', () => setTimeout(destroy, Math.ceil(delay) + 5));
  });

  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          if (address === null || typeof address === 'string') reject(new Error('proxy: no TCP address'));
          else resolve(address.port);
        });
      }),
    stats: () => ({
      connections,
      chunks,
      bytes,
      lateMeanMs: chunks > 0 && delay > 0 ? Math.round((lateSum / chunks) * 1000) / 1000 : 0,
      lateMaxMs: Math.round(lateMax * 1000) / 1000,
    }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface LatencyProxy {
  oneWayMs: number;
  port: number;
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url(databaseUrl: string): string;
  stats(): Promise<ProxyStats>;
  close(): Promise<void>;
}

type ToWorker = { type: 'stats' } | { type: 'close' };
type FromWorker =
  | { type: 'listening'; port: number }
  | { type: 'stats'; stats: ProxyStats }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** Starts the proxy in a worker thread in front of the server of `databaseUrl`. */
export async function startLatencyProxy(databaseUrl: string, oneWayMs: number): Promise<LatencyProxy> {
  const target = new URL(databaseUrl);
  const options: ProxyOptions = {
    targetHost: target.hostname || '127.0.0.1',
    targetPort: Number(target.port || 3306),
    oneWayMs,
  };
  // The worker loads this file through tsx's require hook (the benchmark runs under tsx, the
  // smoke test under vitest: neither passes its loader on to an eval'd worker by itself).
  const req = createRequire(__filename);
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)});`;
  const worker = new Worker(code, { eval: true, workerData: { latencyProxy: options } });
  const replies: Array<(m: FromWorker) => void> = [];
  let failed: Error | undefined;
  worker.on('message', (m: FromWorker) => replies.shift()?.(m));
  worker.on('error', (err) => {
    failed = err;
    for (const r of replies.splice(0)) r({ type: 'error', message: err.message });
  });
  const next = () =>
    new Promise<FromWorker>((resolve) => {
      if (failed) resolve({ type: 'error', message: failed.message });
      else replies.push(resolve);
    });
  const ask = (m: ToWorker) => {
    const reply = next();
    worker.postMessage(m);
    return reply;
  };
  const first = await next();
  if (first.type !== 'listening') {
    await worker.terminate();
    throw new Error(`latency proxy did not start: ${first.type === 'error' ? first.message : first.type}`);
  }
  const port = first.port;
  return {
    oneWayMs,
    port,
    url: (u) => {
      const url = new URL(u);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stats: async () => {
      const m = await ask({ type: 'stats' });
      if (m.type !== 'stats') throw new Error('latency proxy: no stats');
      return m.stats;
    },
    close: async () => {
      await ask({ type: 'close' });
      await worker.terminate();
    },
  };
}

/**
 * The network does not slow down when the client is busy: on a loaded machine the proxy's thread
 * would wait for a core and deliver late, charging the heaviest client most. So the worker thread
 * asks Linux for a higher priority (its own thread id, from /proc/thread-self); where that is not
 * allowed (no CAP_SYS_NICE, no /proc) it runs as it is, and `lateMeanMs` shows the cost.
 */
function raiseThreadPriority(): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return false;
    setPriority(tid, -10);
    return true;
  } catch {
    return false;
  }
}

// Inside the worker: serve until told to close.
if (!isMainThread && parentPort && (workerData as { latencyProxy?: ProxyOptions } | null)?.latencyProxy) {
  const port = parentPort;
  raiseThreadPriority();
  const proxy = createLatencyProxy((workerData as { latencyProxy: ProxyOptions }).latencyProxy);
  proxy.listen().then(
    (p) => port.postMessage({ type: 'listening', port: p } satisfies FromWorker),
    (err: unknown) => port.postMessage({ type: 'error', message: String(err) } satisfies FromWorker),
  );
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stats') port.postMessage({ type: 'stats', stats: proxy.stats() } satisfies FromWorker);
    else
      void proxy.close().then(() => {
        port.postMessage({ type: 'closed' } satisfies FromWorker);
        port.close();
      });
  });
}
