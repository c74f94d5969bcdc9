/**
 * Catalogue reads through the real GET /products handler, in-process: page 1 on a 1,000-product
 * and on the 1,000,000-product database, a deep page reached by `cursor`, and the same deep page
 * by `page=N` (OFFSET) for contrast. One request at a time, so each figure is a request's own time.
 */
import { addRow, type BenchContext } from '../lib/context';
import { type Handler, call, loadHandler, unexpected, useDatabase } from '../lib/handlers';
import { runLoad, summarise } from '../lib/load';

export const LIST_PRODUCTS = 'functions/products/list-products.ts';
const PER_PAGE = 10;

async function getPage(handler: Handler, query: Record<string, string>): Promise<{ next_cursor?: string | null; products?: unknown[] }> {
  const reply = await call(handler, { method: 'GET', path: '/products', query }, 'listProducts');
  if (reply.status !== 200) throw unexpected(reply, 200);
  return JSON.parse(reply.text ?? '{}') as { next_cursor?: string | null; products?: unknown[] };
}

async function measure(ctx: BenchContext, name: string, handler: Handler, query: Record<string, string>, note: string, durationMs: number) {
  ctx.log(`${name} (${new URLSearchParams(query).toString() || 'page 1'}, ${durationMs / 1000} s)`);
  const result = await runLoad(
    async () => {
      await getPage(handler, query);
    },
    { concurrency: 1, durationMs, warmupMs: Math.min(1_000, ctx.settings.warmupMs) },
  );
  if (result.failed > 0) ctx.log(`  !! ${name}: failures ${JSON.stringify(result.errors)}`);
  return addRow(ctx, name, summarise(result), note);
}

export async function runCatalogue(ctx: BenchContext, smallUrl: string, largeUrl: string, largeSize: number): Promise<void> {
  const d = ctx.settings.readDurationMs;
  const handler = loadHandler(ctx.repoRoot, LIST_PRODUCTS);
  const label = largeSize === 1_000_000 ? '1m' : `${Math.round(largeSize / 1000)}k`;
  await useDatabase(smallUrl, 2);
  await measure(ctx, 'list_page1_1k', handler, {}, '1,000 products', d);
  await useDatabase(largeUrl, 2);
  await measure(ctx, `list_page1_${label}`, handler, {}, `${largeSize.toLocaleString('en-US')} products`, d);

  // The deep page: 90% of the way through the catalogue, first reached by offset (which also
  // hands out the cursor for the page after it), then by that cursor.
  const deepPage = Math.floor((largeSize * 0.9) / PER_PAGE);
  const byOffset = await getPage(handler, { page: String(deepPage), per_page: String(PER_PAGE) });
  if (!byOffset.products || byOffset.products.length !== PER_PAGE) throw new Error(`page ${deepPage} returned no full page`);
  const cursor = byOffset.next_cursor;
  if (typeof cursor !== 'string') throw new Error(`page ${deepPage} returned no next_cursor`);
  await measure(ctx, `list_cursor_deep_${label}`, handler, { cursor, per_page: String(PER_PAGE) }, `page ${(deepPage + 1).toLocaleString('en-US')} by cursor`, d);
  await measure(ctx, `list_offset_deep_${label}`, handler, { page: String(deepPage + 1), per_page: String(PER_PAGE) }, `page ${(deepPage + 1).toLocaleString('en-US')} by page=N (OFFSET)`, d);
}
