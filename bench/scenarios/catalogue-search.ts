/**
 * Catalogue search, filters and sorting (issue 13) on the large catalogue, in the catalogue group's
 * run, through the real GET /products handler, one request at a time. Every probe is measured
 * request by request beside plain page 1, so the machine's load hits all alike:
 *   in_stock=true · a price range holding ~1% of products · sort=-price · q with a common word
 *   (a noun of 1 name in 10) · q with a rare word (1 name in 10,007) · the 1,000th cursor page of
 *   sort=price, beside sort=price page 1.
 * ratios: search_worst_vs_page1 (slowest p50 of the six ÷ page 1 p50) and
 * search_deep_cursor_vs_page1 (the 1,000th sort=price cursor page ÷ sort=price page 1).
 * The statements each probe runs are captured from the service and EXPLAINed into
 * bench/results/search-explain.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool, format } from 'mysql2';
import type { DB } from '../../lib/db/types';
import { type ListProductsQuery, listProductsQuery } from '../../lib/products/schema';
import { listProducts } from '../../lib/products/service';
import type { Handler } from '../../scripts/lib/lambda';
import { addRow, type BenchContext } from '../lib/context';
import { type LoadResult, summarise } from '../lib/load';
import { getPage, interleave, type Probe } from './catalogue';

const PER_PAGE = '10';
const DEEP_PAGE = 1_000;
/** Seeded prices are 0.99–499.99, spread evenly: 100.00–104.99 holds about 1% of them. */
const PRICE_RANGE = { min_price: '100', max_price: '104.99' };

async function explainAll(databaseUrl: string, probes: Probe[]): Promise<string> {
  const captured: { sql: string; ms: number }[] = [];
  const pool = createPool({ uri: databaseUrl, timezone: 'Z', supportBigNumbers: true, connectionLimit: 2 });
  const db = new Kysely<DB>({
    dialect: new MysqlDialect({ pool }),
    log: (e) => {
      if (e.level === 'query')
        captured.push({
          sql: format(e.query.sql, [...e.query.parameters] as Parameters<typeof format>[1]),
          ms: e.queryDurationMillis,
        });
    },
  });
  const lines: string[] = [
    '# EXPLAIN of the search scenarios',
    '',
    'Written by `npm run bench` (catalogue group): each statement the service sends for the probe,',
    'as sent, with its EXPLAIN on the benchmark catalogue.',
  ];
  try {
    for (const p of probes) {
      captured.length = 0;
      await listProducts(db, listProductsQuery.parse(p.query) as ListProductsQuery);
      const statements = [...captured];
      lines.push('', `## ${p.name}: \`?${new URLSearchParams(p.query).toString().slice(0, 120)}\``, '');
      for (const s of statements) {
        const { rows } = await sql.raw<Record<string, unknown>>(`EXPLAIN ${s.sql}`).execute(db);
        lines.push('```sql', s.sql.replace(/\s+/g, ' ').trim(), '```', '');
        lines.push(
          '| id | select_type | table | type | key | rows | Extra |',
          '| --- | --- | --- | --- | --- | --- | --- |',
        );
        for (const r of rows) {
          lines.push(
            `| ${r.id} | ${r.select_type} | ${r.table} | ${r.type} | ${r.key ?? ''} | ${r.rows} | ${String(r.Extra ?? '').replaceAll('|', '/')} |`,
          );
        }
        lines.push('');
      }
    }
  } finally {
    await db.destroy();
  }
  return `${lines.join('\n')}\n`;
}

export async function runCatalogueSearch(
  ctx: BenchContext,
  handler: Handler,
  largeUrl: string,
  label: string,
): Promise<void> {
  const d = ctx.settings.readDurationMs;
  const warm = Math.min(1_000, ctx.settings.warmupMs);

  // The cursor of the 1,000th sort=price page: followed from page 1, as a client would.
  const t0 = performance.now();
  let page = await getPage(handler, { sort: 'price', per_page: PER_PAGE });
  for (let n = 2; n < DEEP_PAGE; n++) {
    if (typeof page.next_cursor !== 'string') throw new Error(`sort=price ended at page ${n - 1}`);
    page = await getPage(handler, { sort: 'price', per_page: PER_PAGE, cursor: page.next_cursor });
  }
  // `page` is page 999 now; its next_cursor opens page 1,000.
  const cursor = page.next_cursor;
  if (typeof cursor !== 'string') throw new Error(`sort=price has no page ${DEEP_PAGE}`);
  ctx.log(`  followed ${DEEP_PAGE - 1} sort=price pages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const page1: Probe = {
    name: `search_page1_ref_${label}`,
    note: 'plain page 1, measured beside the searches',
    query: {},
  };
  const searches: Probe[] = [
    { name: `search_in_stock_${label}`, note: 'in_stock=true', query: { in_stock: 'true' } },
    { name: `search_price_1pct_${label}`, note: 'min_price=100&max_price=104.99 (~1%)', query: PRICE_RANGE },
    { name: `search_sort_price_desc_${label}`, note: 'sort=-price', query: { sort: '-price' } },
    { name: `search_q_common_${label}`, note: 'q=mug (1 name in 10)', query: { q: 'mug' } },
    { name: `search_q_rare_${label}`, note: 'q=zephyr (1 name in 10,007)', query: { q: 'zephyr' } },
    {
      name: `search_price_cursor_${DEEP_PAGE}_${label}`,
      note: `sort=price, page ${DEEP_PAGE.toLocaleString('en-US')} by cursor`,
      query: { sort: 'price', per_page: PER_PAGE, cursor },
    },
  ];
  const pricePage1: Probe = {
    name: `search_price_page1_${label}`,
    note: 'sort=price page 1',
    query: { sort: 'price' },
  };
  const probes = [page1, ...searches, pricePage1];

  ctx.log(`search scenarios vs page 1, request by request (${d / 1000} s)`);
  await interleave(handler, probes, warm, new Map(), false, true);
  const results = new Map<string, LoadResult>();
  await interleave(handler, probes, Math.max(d, 3_000), results, true, true);
  const p50 = new Map<string, number>();
  for (const p of probes) {
    const r = results.get(p.name) as LoadResult;
    r.latenciesMs.sort((a, b) => a - b);
    if (r.failed > 0) ctx.log(`  !! ${p.name}: failures ${JSON.stringify(r.errors)}`);
    const summary = summarise(r);
    p50.set(p.name, summary.p50_ms);
    addRow(ctx, p.name, summary, p.note);
  }
  const base = p50.get(page1.name) ?? Number.NaN;
  const worst = Math.max(...searches.map((s) => p50.get(s.name) ?? Number.NaN));
  const deep = p50.get(searches[5]?.name ?? '') ?? Number.NaN;
  const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
  ctx.details.search_ratios = {
    search_worst_vs_page1: round3(worst / base),
    search_deep_cursor_vs_page1: round3(deep / (p50.get(pricePage1.name) ?? Number.NaN)),
    slowest: searches.reduce((a, b) => ((p50.get(a.name) ?? 0) >= (p50.get(b.name) ?? 0) ? a : b)).name,
  };

  ctx.log('  EXPLAIN of every statement → bench/results/search-explain.md');
  const explain = await explainAll(largeUrl, [...searches, pricePage1]);
  const dir = join(ctx.repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'search-explain.md'), explain);
}
