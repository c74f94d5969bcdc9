/**
 * A closed-loop load generator: `concurrency` workers each keep one request in flight, back to
 * back, until the duration (or the request count) is used up. Latencies go into a plain array and
 * are sorted once at the end (a few hundred thousand samples at most, so no histogram needed).
 */
import { performance } from 'node:perf_hooks';
import { cpuNow, cpuSince } from './cpu';

export interface LoadOptions {
  concurrency: number;
  /** Stop starting new requests after this long (measured phase). */
  durationMs?: number;
  /** Or stop after this many requests in total. */
  count?: number;
  /** Run the same loop this long first without recording (connections, JIT, buffer pool). */
  warmupMs?: number;
}

/** One request. Resolve when it succeeded; throw (or reject) when it failed. */
export type Operation = (worker: number) => Promise<void>;

export interface LoadResult {
  ok: number;
  failed: number;
  elapsedMs: number;
  /** Latencies of successful requests, ascending. */
  latenciesMs: number[];
  /** Failure messages and how often each occurred. */
  errors: Record<string, number>;
  /** CPU µs of the measured phase: this process, and the local database server when known. */
  cpu?: { clientUs: number; serverUs: number | undefined };
}

export interface Summary {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  ok: number;
  failed: number;
  /** CPU µs per successful operation: this process, and the local database server when known. */
  client_cpu_us?: number;
  server_cpu_us?: number;
}

async function loop(
  op: Operation,
  concurrency: number,
  until: { deadline: number; count: number },
  record: boolean,
): Promise<Omit<LoadResult, 'elapsedMs'>> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let started = 0;
  let ok = 0;
  let failed = 0;
  const worker = async (w: number) => {
    while (performance.now() < until.deadline && started < until.count) {
      started++;
      const t0 = performance.now();
      try {
        await op(w);
        ok++;
        if (record) latencies.push(performance.now() - t0);
      } catch (err) {
        failed++;
        const key = err instanceof Error ? err.message.slice(0, 160) : String(err).slice(0, 160);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  latencies.sort((a, b) => a - b);
  return { ok, failed, latenciesMs: latencies, errors };
}

export async function runLoad(op: Operation, options: LoadOptions): Promise<LoadResult> {
  const { concurrency } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
  if (options.durationMs === undefined && options.count === undefined) throw new Error('give durationMs or count');
  if (options.warmupMs && options.warmupMs > 0) {
    await loop(
      op,
      concurrency,
      { deadline: performance.now() + options.warmupMs, count: Number.POSITIVE_INFINITY },
      false,
    );
  }
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const until = {
    deadline: options.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + options.durationMs,
    count: options.count ?? Number.POSITIVE_INFINITY,
  };
  const result = await loop(op, concurrency, until, true);
  // Elapsed until the last in-flight request finished, so throughput counts only completed work.
  return { ...result, elapsedMs: performance.now() - t0, cpu: cpuSince(cpu0) };
}

/** The value at quantile q (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarise(r: LoadResult): Summary {
  const sum = r.latenciesMs.reduce((a, b) => a + b, 0);
  return {
    ops_per_s: r.elapsedMs > 0 ? (r.ok * 1000) / r.elapsedMs : 0,
    p50_ms: quantile(r.latenciesMs, 0.5),
    p99_ms: quantile(r.latenciesMs, 0.99),
    mean_ms: r.latenciesMs.length > 0 ? sum / r.latenciesMs.length : Number.NaN,
    ok: r.ok,
    failed: r.failed,
    ...(r.cpu && r.ok > 0 ? { client_cpu_us: Math.round(r.cpu.clientUs / r.ok) } : {}),
    ...(r.cpu?.serverUs !== undefined && r.ok > 0 ? { server_cpu_us: Math.round(r.cpu.serverUs / r.ok) } : {}),
  };
}

/** Several slices of one scenario as one result: counts, time, CPU and latencies added up. */
export function mergeResults(rs: LoadResult[]): LoadResult {
  const errors: Record<string, number> = {};
  for (const r of rs) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
  const serverUs = rs.every((r) => r.cpu?.serverUs !== undefined)
    ? rs.reduce((n, r) => n + (r.cpu?.serverUs ?? 0), 0)
    : undefined;
  return {
    ok: rs.reduce((n, r) => n + r.ok, 0),
    failed: rs.reduce((n, r) => n + r.failed, 0),
    elapsedMs: rs.reduce((n, r) => n + r.elapsedMs, 0),
    latenciesMs: rs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b),
    errors,
    cpu: { clientUs: rs.reduce((n, r) => n + (r.cpu?.clientUs ?? 0), 0), serverUs },
  };
}
