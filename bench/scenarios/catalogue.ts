/**
 * Catalogue reads through the real GET /products handler, in-process, one request at a time (each
 * figure is a request's own time): page 1 on a 1,000-product and on the 1,000,000-product
 * database, a deep page (90% of the way) reached by `cursor`, and the same page by `page=N` (OFFSET)
 * for contrast. Compared figures are measured interleaved, so a change in the shared machine's load
 * hits both sides: page 1 and the deep cursor page request by request; the two databases in
 * alternating slices (the app has one process-wide pool, so it is re-pointed between slices).
 */
import { performance } from 'node:perf_hooks';
import { addRow, type BenchContext } from '../lib/context';
import { type Handler, invoke, loadHandler } from '../../scripts/lib/lambda';
import { unexpected, useDatabase } from '../lib/handlers';
import { type LoadResult, summarise } from '../lib/load';
import { runCatalogueSearch } from './catalogue-search';

export const LIST_PRODUCTS = 'functions/products/list-products.ts';
const PER_PAGE = 10;

export interface Page {
  next_cursor?: string | null;
  products?: unknown[];
}

/** One GET /products through the real handler; anything but 200 throws. */
export async function getPage(handler: Handler, query: Record<string, string>): Promise<Page> {
  const reply = await invoke(handler, { method: 'GET', path: '/products', query }, 'listProducts');
  if (reply.status !== 200) throw unexpected(reply, 200);
  return JSON.parse(reply.text ?? '{}') as Page;
}

export interface Probe {
  name: string;
  note?: string;
  query: Record<string, string>;
}

const empty = (): LoadResult => ({ ok: 0, failed: 0, elapsedMs: 0, latenciesMs: [], errors: {} });

/**
 * Requests each probe in turn until `durationMs` is up; latencies per probe (appended to `into`).
 * With `requireRows`, a page without products counts as a failure.
 */
export async function interleave(
  handler: Handler,
  probes: Probe[],
  durationMs: number,
  into: Map<string, LoadResult>,
  record = true,
  requireRows = false,
) {
  const deadline = performance.now() + durationMs;
  while (performance.now() < deadline) {
    for (const p of probes) {
      const r = into.get(p.name) ?? empty();
      into.set(p.name, r);
      const t0 = performance.now();
      try {
        const page = await getPage(handler, p.query);
        if (requireRows && !page.products?.length) throw new Error(`${p.name}: empty page`);
        const ms = performance.now() - t0;
        if (record) {
          r.ok++;
          r.latenciesMs.push(ms);
          r.elapsedMs += ms;
        }
      } catch (err) {
        r.failed++;
        const key = err instanceof Error ? err.message : String(err);
        r.errors[key] = (r.errors[key] ?? 0) + 1;
      }
    }
  }
}

function report(ctx: BenchContext, name: string, r: LoadResult | undefined, note: string): void {
  if (!r) return;
  r.latenciesMs.sort((a, b) => a - b);
  if (r.failed > 0) ctx.log(`  !! ${name}: failures ${JSON.stringify(r.errors)}`);
  // ops/s of a one-at-a-time probe: 1 / its mean time (interleaving shares the wall clock).
  addRow(ctx, name, summarise(r), note);
}

export async function runCatalogue(
  ctx: BenchContext,
  smallUrl: string,
  largeUrl: string,
  largeSize: number,
): Promise<void> {
  const d = ctx.settings.readDurationMs;
  const warm = Math.min(1_000, ctx.settings.warmupMs);
  const handler = loadHandler(ctx.repoRoot, LIST_PRODUCTS);
  const label = largeSize === 1_000_000 ? '1m' : `${Math.round(largeSize / 1000)}k`;
  const page1: Probe = { name: 'page1', query: {} };

  ctx.log(`list_page1_1k vs list_page1_${label} (alternating slices, ${(2 * d) / 1000} s)`);
  const byDb = new Map<string, LoadResult>();
  const slices = ctx.settings.quick ? 4 : 8;
  for (let i = 0; i < slices; i++) {
    for (const [tag, url] of [
      ['1k', smallUrl],
      [label, largeUrl],
    ] as const) {
      await useDatabase(url, 2);
      const slice = new Map<string, LoadResult>();
      await interleave(handler, [page1], warm / 2, slice, false); // new pool: connect outside the clock
      await interleave(handler, [{ ...page1, name: tag }], d / slices, byDb);
    }
  }
  report(ctx, 'list_page1_1k', byDb.get('1k'), '1,000 products');
  report(ctx, `list_page1_${label}`, byDb.get(label), `${largeSize.toLocaleString('en-US')} products`);

  // The deep page, 90% of the way through: reached once by offset, which also hands out the cursor
  // for the page after it; then page 1 and that cursor page, request by request.
  await useDatabase(largeUrl, 2);
  const deepPage = Math.floor((largeSize * 0.9) / PER_PAGE);
  const byOffset = await getPage(handler, { page: String(deepPage), per_page: String(PER_PAGE) });
  if (!byOffset.products || byOffset.products.length !== PER_PAGE)
    throw new Error(`page ${deepPage} returned no full page`);
  const cursor = byOffset.next_cursor;
  if (typeof cursor !== 'string') throw new Error(`page ${deepPage} returned no next_cursor`);
  const deep = (deepPage + 1).toLocaleString('en-US');
  const probes: Probe[] = [
    { name: `list_page1_${label}_b`, query: {} },
    { name: `list_cursor_deep_${label}`, query: { cursor, per_page: String(PER_PAGE) } },
  ];
  ctx.log(`list_cursor_deep_${label} vs page 1, request by request (${d / 1000} s)`);
  const paired = new Map<string, LoadResult>();
  await interleave(handler, probes, warm, new Map(), false);
  await interleave(handler, probes, d, paired);
  report(
    ctx,
    `list_page1_${label}_paired`,
    paired.get(`list_page1_${label}_b`),
    'page 1, measured beside the cursor page',
  );
  report(ctx, `list_cursor_deep_${label}`, paired.get(`list_cursor_deep_${label}`), `page ${deep} by cursor`);

  // Contrast only: OFFSET paging walks every skipped index entry, so a few requests are enough.
  ctx.log(`list_offset_deep_${label} (page=${deepPage + 1})`);
  const offset = new Map<string, LoadResult>();
  await interleave(
    handler,
    [{ name: 'offset', query: { page: String(deepPage + 1), per_page: String(PER_PAGE) } }],
    Math.min(d, 3_000),
    offset,
  );
  report(ctx, `list_offset_deep_${label}`, offset.get('offset'), `page ${deep} by page=N (OFFSET)`);

  // Search, filters and sorting on the same catalogue, in the same run (issue 13).
  await runCatalogueSearch(ctx, handler, largeUrl, label);
}
