import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The keyset cursor of GET /products: opaque to clients, base64url of a small versioned JSON.
 *   s: the sort it continues;
 *   f: a digest of the sort and filters it was issued for (q, min_price, max_price, in_stock), so
 *      a cursor sent with other ones is refused instead of silently paging another list;
 *   k: the sort value of the last product served (price in cents, name_key, created_at in ms;
 *      absent for `sort=id`), and a: its id. The next page is everything after (k, a) in the sort's
 *      order, whatever happened to that product since;
 *   n: how many products were served before the cursor (so a cursor page can still report
 *      `current_page`); informational only, it never moves the window.
 * A cursor is only a position, so a forged one gains nothing; any string that is not exactly what
 * encodeCursor produces is rejected rather than guessed at. Version 1 cursors (id order, no
 * filters), issued before sorting existed, are still honoured.
 */
export const SORTS = ['id', 'price', '-price', 'name', '-name', 'created_at', '-created_at'] as const;
export type Sort = (typeof SORTS)[number];

/** What a list was asked for, as the cursor digest sees it (q trimmed, prices in cents). */
export interface ListSpec {
  sort: Sort;
  q?: string | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  inStock?: boolean | undefined;
}

export interface Cursor {
  sort: Sort;
  filters: string;
  /** The last product's sort value; undefined for `sort=id`. */
  key?: number | string;
  after: number;
  position: number;
}

/** Long enough for a name_key of 512 four-byte characters. */
const MAX_CURSOR_LENGTH = 4_096;
const MAX_KEY_CHARS = 512;

/** The digest of a list's sort and filters (96 bits of SHA-256, base64url). */
export function specDigest(spec: ListSpec): string {
  const canonical = JSON.stringify([
    spec.sort,
    spec.q ?? null,
    spec.minPriceCents ?? null,
    spec.maxPriceCents ?? null,
    spec.inStock ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

const safeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const v1Schema = z.object({ v: z.literal(1), a: safeInt, n: safeInt }).strict();
const v2Schema = z
  .object({
    v: z.literal(2),
    s: z.enum(SORTS),
    f: z.string().regex(/^[A-Za-z0-9_-]{16}$/),
    k: z.union([safeInt, z.string().max(MAX_KEY_CHARS)]).optional(),
    a: safeInt,
    n: safeInt,
  })
  .strict();

/** Which kind of key each sort carries. */
const keyKind = (sort: Sort): 'none' | 'number' | 'string' =>
  sort === 'id' ? 'none' : sort === 'name' || sort === '-name' ? 'string' : 'number';

/** A cursor of the plain list (id order, no filters) at `after`. */
export function idCursor(after: number, position: number): Cursor {
  return { sort: 'id', filters: specDigest({ sort: 'id' }), after, position };
}

export function encodeCursor(cursor: Cursor): string {
  const payload =
    cursor.key === undefined
      ? { v: 2, s: cursor.sort, f: cursor.filters, a: cursor.after, n: cursor.position }
      : { v: 2, s: cursor.sort, f: cursor.filters, k: cursor.key, a: cursor.after, n: cursor.position };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

const encodeV1 = (after: number, position: number): string =>
  Buffer.from(JSON.stringify({ v: 1, a: after, n: position }), 'utf8').toString('base64url');

/** The cursor in `text`, or undefined when it is not one this API issued. */
export function decodeCursor(text: string): Cursor | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined; // not JSON: not ours
  }
  const v1 = v1Schema.safeParse(raw);
  if (v1.success) {
    const { a, n } = v1.data;
    // Buffer's base64url decoder is lenient (ignores stray bits, accepts other key orders or spaces
    // in the JSON): accept only the canonical form, so one position has exactly one cursor.
    if (encodeV1(a, n) !== text) return undefined;
    return { sort: 'id', filters: specDigest({ sort: 'id' }), after: a, position: n };
  }
  const v2 = v2Schema.safeParse(raw);
  if (!v2.success) return undefined;
  const { s, f, k, a, n } = v2.data;
  const kind = keyKind(s);
  if (kind === 'none' ? k !== undefined : typeof k !== kind) return undefined;
  const cursor: Cursor =
    k === undefined
      ? { sort: s, filters: f, after: a, position: n }
      : { sort: s, filters: f, key: k, after: a, position: n };
  return encodeCursor(cursor) === text ? cursor : undefined;
}
