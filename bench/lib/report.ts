/** The results: latest.json in the exact shape, a details file, and the printed tables. */
import type { ColdStartResult } from '../scenarios/cold-start';
import type { HotCurve } from '../scenarios/hot-curve';
import type { LockRoundTrips } from '../scenarios/lock-round-trips';
import { HOT_SHARDS } from '../scenarios/orders';
import type { BenchContext, ScenarioRow } from './context';
import { round2 } from './machine';
import { renderTable } from './table';

export interface Latest {
  machine: string;
  date: string;
  scenarios: Record<string, { ops_per_s: number; p50_ms: number; p99_ms: number }>;
  ratios: {
    order_hot_vs_raw: number | null;
    order_spread_vs_raw: number | null;
    list_1m_vs_1k: number | null;
    deep_cursor_vs_page1: number | null;
    order_100_lines_vs_1: number | null;
    raw_order_100_lines_vs_1: number | null;
    order_hot_latency_vs_naive: number | null;
    order_hot_latency_vs_best_raw: number | null;
    order_cpu_vs_raw: number | null;
    http_list_vs_handler: number | null;
    http_order_vs_handler: number | null;
    /** The slowest search scenario's p50 ÷ plain page 1 (bench/scenarios/catalogue-search.ts). */
    search_worst_vs_page1: number | null;
    /** The 1,000th sort=price cursor page ÷ sort=price page 1. */
    search_deep_cursor_vs_page1: number | null;
    order_hot_sharded_latency_vs_single: number | null;
    order_hot_sharded_latency_vs_spread: number | null;
  };
  /** Round trips the handler's hot order holds its product row lock (FOR UPDATE … COMMIT). */
  lock_round_trips: number | null;
  /** Hot orders/s at 0, 0.5, 1, 2 ms one way (DEPLOY.md) and the line fitted to them. */
  hot_curve: HotCurve | null;
  lost_updates: number | null;
  bundle_zip_kb_max: number | null;
  init_ms_max: number | null;
}

export interface Target {
  key: string;
  value: number | null;
  op: '>=' | '<=' | '=';
  target: number;
  meaning: string;
  /** The same ratio for the raw statements, where one applies: what the database alone allows. */
  floor?: number | null;
  /** The rule "≤ target, or ≤ the raw floor when that is higher": the floor relaxes the target. */
  floorRelaxes?: boolean;
}

export interface Report {
  latest: Latest;
  details: Record<string, unknown>;
  rows: ScenarioRow[];
  targets: Target[];
}

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? null
    : Math.round((a / b) * 1000) / 1000;

export function buildReport(ctx: BenchContext, machine: string, elapsedS: number): Report {
  const row = (name: string) => ctx.rows.find((r) => r.name === name);
  const ops = (name: string) => row(name)?.ops_per_s;
  const p50 = (name: string) => row(name)?.p50_ms;
  const cpu = (name: string) => row(name)?.client_cpu_us;
  const cold = ctx.details.cold_start as ColdStartResult | undefined;
  const lock = ctx.details.lock_round_trips as LockRoundTrips | undefined;
  const http = ctx.details.http_mode as string | undefined;
  const search = ctx.details.search_ratios as
    | { search_worst_vs_page1: number | null; search_deep_cursor_vs_page1: number | null; slowest: string }
    | undefined;
  const latest: Latest = {
    machine,
    date: new Date().toISOString(),
    scenarios: Object.fromEntries(
      ctx.rows.map((r) => [
        r.name,
        { ops_per_s: Math.round(r.ops_per_s * 10) / 10, p50_ms: round2(r.p50_ms), p99_ms: round2(r.p99_ms) },
      ]),
    ),
    ratios: {
      order_hot_vs_raw: ratio(ops('order_hot'), ops('raw_hot')),
      order_spread_vs_raw: ratio(ops('order_spread'), ops('raw_spread')),
      list_1m_vs_1k: ratio(p50('list_page1_1m'), p50('list_page1_1k')),
      deep_cursor_vs_page1: ratio(p50('list_cursor_deep_1m'), p50('list_page1_1m_paired')),
      order_100_lines_vs_1: ratio(p50('order_100_lines'), p50('order_1_line')),
      raw_order_100_lines_vs_1: ratio(p50('raw_100_lines'), p50('raw_1_line')),
      order_hot_latency_vs_naive: ratio(ops('order_hot_latency'), ops('raw_naive_hot_latency')),
      order_hot_latency_vs_best_raw: ratio(ops('order_hot_latency'), ops('raw_hot_latency')),
      order_cpu_vs_raw: ratio(cpu('order_spread'), cpu('raw_spread')),
      http_list_vs_handler: ratio(ops(`http_list_${http}`), ops('handler_list_http_ref')),
      http_order_vs_handler: ratio(ops(`http_order_${http}`), ops('handler_order_http_ref')),
      search_worst_vs_page1: search?.search_worst_vs_page1 ?? null,
      search_deep_cursor_vs_page1: search?.search_deep_cursor_vs_page1 ?? null,
      order_hot_sharded_latency_vs_single: ratio(ops('order_hot_sharded_latency'), ops('order_hot_latency')),
      order_hot_sharded_latency_vs_spread: ratio(ops('order_hot_sharded_latency'), ops('order_spread_latency')),
    },
    lock_round_trips: lock ? lock.handler : null,
    hot_curve: (ctx.details.hot_curve as HotCurve | undefined) ?? null,
    lost_updates:
      ctx.audits.length === 0 ? null : ctx.audits.reduce((n, a) => n + a.lost_updates + a.unrecorded_units, 0),
    bundle_zip_kb_max: cold ? Math.round(cold.bundle_zip_kb_max * 10) / 10 : null,
    init_ms_max: cold ? round2(cold.init_ms_max) : null,
  };
  const targets: Target[] = [
    {
      key: 'order_hot_vs_raw',
      value: latest.ratios.order_hot_vs_raw,
      op: '>=',
      target: 0.8,
      meaning: 'handler ÷ raw throughput, one hot product',
    },
    {
      key: 'order_spread_vs_raw',
      value: latest.ratios.order_spread_vs_raw,
      op: '>=',
      target: 0.8,
      meaning: 'handler ÷ raw throughput, 10k products',
    },
    {
      key: 'list_1m_vs_1k',
      value: latest.ratios.list_1m_vs_1k,
      op: '<=',
      target: 2,
      meaning: 'page 1 time, 1M ÷ 1k products',
    },
    {
      key: 'deep_cursor_vs_page1',
      value: latest.ratios.deep_cursor_vs_page1,
      op: '<=',
      target: 1.2,
      meaning: 'deep page by cursor ÷ page 1 time (1M)',
    },
    {
      key: 'search_worst_vs_page1',
      value: latest.ratios.search_worst_vs_page1,
      op: '<=',
      target: 3,
      meaning: `slowest search scenario ÷ page 1 time (${search?.slowest ?? '–'})`,
    },
    {
      key: 'search_deep_cursor_vs_page1',
      value: latest.ratios.search_deep_cursor_vs_page1,
      op: '<=',
      target: 1.5,
      meaning: '1,000th sort=price cursor page ÷ sort=price page 1',
    },
    {
      key: 'order_100_lines_vs_1',
      value: latest.ratios.order_100_lines_vs_1,
      op: '<=',
      target: 4,
      meaning: 'time per order, 100 lines ÷ 1 line',
      floor: ratio(p50('raw_100_lines'), p50('raw_1_line')),
      floorRelaxes: true,
    },
    {
      key: 'order_hot_latency_vs_naive',
      value: latest.ratios.order_hot_latency_vs_naive,
      op: '>=',
      target: 1.6,
      meaning: `handler ÷ naive raw throughput, hot, ${ctx.settings.latencyMs} ms one way`,
    },
    {
      key: 'order_hot_latency_vs_best_raw',
      value: latest.ratios.order_hot_latency_vs_best_raw,
      op: '>=',
      target: 0.8,
      meaning: `handler ÷ lock-last raw throughput, hot, ${ctx.settings.latencyMs} ms one way`,
    },
    {
      key: 'lock_round_trips',
      value: latest.lock_round_trips,
      op: '<=',
      target: 3,
      meaning: `round trips under the product lock, handler's hot order (general log: ${lock?.general_log ?? '–'})`,
      floor: lock ? lock.raw : undefined,
    },
    {
      key: 'order_hot_sharded_latency_vs_single',
      value: latest.ratios.order_hot_sharded_latency_vs_single,
      op: '>=',
      target: 4,
      meaning: `handler hot orders/s, stock in ${HOT_SHARDS} rows ÷ in one row, ${ctx.settings.latencyMs} ms one way`,
      floor: ratio(ops('raw_hot_sharded_latency'), ops('raw_hot_latency')),
    },
    {
      key: 'order_hot_sharded_latency_vs_spread',
      value: latest.ratios.order_hot_sharded_latency_vs_spread,
      op: '>=',
      target: 0.7,
      meaning: `handler orders/s, sharded hot product ÷ spread over the catalogue, ${ctx.settings.latencyMs} ms one way`,
      floor: ratio(ops('raw_hot_sharded_latency'), ops('raw_spread_latency')),
    },
    {
      key: 'order_cpu_vs_raw',
      value: latest.ratios.order_cpu_vs_raw,
      op: '<=',
      target: 2,
      meaning: 'client CPU µs per order, handler ÷ raw, spread',
    },
    {
      key: 'http_list_vs_handler',
      value: latest.ratios.http_list_vs_handler,
      op: '>=',
      target: 0.6,
      meaning: "GET /products over npm run dev's HTTP ÷ in-process handler",
    },
    {
      key: 'http_order_vs_handler',
      value: latest.ratios.http_order_vs_handler,
      op: '>=',
      target: 0.6,
      meaning: "POST /orders (spread) over npm run dev's HTTP ÷ in-process handler",
    },
    {
      key: 'bundle_zip_kb_max',
      value: latest.bundle_zip_kb_max,
      op: '<=',
      target: 1024,
      meaning: 'largest function zip (KB)',
    },
    {
      key: 'init_ms_max',
      value: latest.init_ms_max,
      op: '<=',
      target: 150,
      meaning: 'slowest module init, fresh node (ms)',
    },
    {
      key: 'lost_updates',
      value: latest.lost_updates,
      op: '=',
      target: 0,
      meaning: 'Σ abs(expected − stored stock) after every load',
    },
  ];
  const details = {
    date: latest.date,
    mode: ctx.settings.quick ? 'quick' : 'full',
    elapsed_s: Math.round(elapsedS),
    settings: { ...ctx.settings, only: ctx.settings.only ? [...ctx.settings.only] : null },
    machine: ctx.machine,
    scenarios: ctx.rows,
    audits: ctx.audits,
    targets: targets.map((t) => ({ ...t, met: met(t) })),
    ...ctx.details,
  };
  return { latest, details, rows: ctx.rows, targets };
}

export function met(t: Target): boolean | null {
  if (t.value === null) return null;
  if (t.op === '>=') return t.value >= t.target;
  if (t.op === '<=') return t.value <= (t.floorRelaxes && t.floor != null ? Math.max(t.target, t.floor) : t.target);
  return t.value === t.target;
}

export function scenarioTable(rows: ScenarioRow[], markdown = false): string {
  return renderTable(
    ['scenario', 'ops/s', 'p50 ms', 'p99 ms', 'failed', 'CPU µs/op bench', 'CPU µs/op db', 'note'],
    rows.map((r) => [
      r.name,
      r.ops_per_s,
      r.p50_ms,
      r.p99_ms,
      r.failed,
      r.client_cpu_us ?? '',
      r.server_cpu_us ?? '',
      r.note,
    ]),
    markdown,
  );
}

export function targetTable(targets: Target[], markdown = false): string {
  return renderTable(
    ['measure', 'value', 'target', 'met', 'raw floor', 'meaning'],
    targets.map((t) => {
      const m = met(t);
      return [
        t.key,
        t.value === null ? '–' : t.value,
        `${t.op} ${t.target}`,
        m === null ? 'not run' : m ? 'yes' : 'NO',
        t.floor === undefined ? '' : t.floor === null ? '–' : t.floor,
        t.meaning,
      ];
    }),
    markdown,
  );
}

/** The whole report as text: plain for the terminal, markdown for bench/results/latest.md. */
export function renderReport(report: Report, markdown = false): string {
  const cold = report.details.cold_start as ColdStartResult | undefined;
  const parts: string[] = [];
  const head = `${report.latest.machine}\n${report.latest.date} (${String(report.details.mode)} run, ${String(report.details.elapsed_s)} s)`;
  parts.push(
    markdown
      ? head
          .split('\n')
          .map((l) => `${l}  `)
          .join('\n')
      : head,
  );
  const proxy = report.details.latency_proxy as
    | { one_way_ms: number; lateMeanMs: number; lateMaxMs: number }
    | undefined;
  if (proxy)
    parts.push(
      `\`_latency\` rows: ${proxy.one_way_ms} ms one way through the latency proxy; chunks left ${proxy.lateMeanMs} ms late on average (max ${proxy.lateMaxMs} ms): a loaded machine delays the proxy too.`,
    );
  if (report.rows.length > 0) parts.push(scenarioTable(report.rows, markdown));
  if (cold) {
    parts.push(
      renderTable(
        ['function', 'zip KB', 'bundle KB', 'init ms (median)', 'init ms (min)', 'init CPU ms'],
        cold.functions.map((f) => [f.name, f.zip_kb, f.bundle_kb, f.init_ms, f.init_min_ms, f.init_cpu_ms]),
        markdown,
      ),
    );
  }
  const curve = report.details.hot_curve as HotCurve | undefined;
  if (curve && curve.points.length > 0) {
    const names = Object.keys(curve.fit);
    parts.push(
      renderTable(
        ['one way ms', ...names.map((n) => `${n}_hot /s`)],
        [
          ...curve.points.map((p) => [p.one_way_ms, ...names.map((n) => p.ops_per_s[n] ?? '–')]),
          ...(['a_ms', 'b'] as const).map((k) => [
            k === 'a_ms' ? 'fit a (ms)' : 'fit b (× RTT)',
            ...names.map((n) => curve.fit[n]?.[k] ?? '–'),
          ]),
        ],
        markdown,
      ),
    );
  }
  parts.push(targetTable(report.targets, markdown));
  return `${parts.join('\n\n')}\n`;
}

export function printReport(report: Report): void {
  console.log(`\n${renderReport(report)}`);
}
