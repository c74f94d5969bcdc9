import { z } from 'zod';

/**
 * The keyset cursor of GET /products: opaque to clients, base64url of a small versioned JSON.
 *   after:    the last product id already served; the next page is `id > after`
 *   position: how many live products were served before the cursor (so a cursor page can still
 *             report `current_page`); informational only, it never moves the window
 * A cursor is only a position, so a forged one gains nothing; any string that is not exactly what
 * encodeCursor produces is rejected rather than guessed at.
 */
export interface Cursor {
  after: number;
  position: number;
}

const MAX_CURSOR_LENGTH = 200;

const payloadSchema = z
  .object({
    v: z.literal(1),
    a: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    n: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

export function encodeCursor(cursor: Cursor): string {
  const payload = { v: 1, a: cursor.after, n: cursor.position };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The cursor in `text`, or undefined when it is not one this API issued. */
export function decodeCursor(text: string): Cursor | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined; // not JSON: not ours
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const cursor = { after: parsed.data.a, position: parsed.data.n };
  // Buffer's base64url decoder is lenient (ignores stray bits, accepts other key orders or spaces
  // in the JSON): accept only the canonical form, so one position has exactly one cursor.
  return encodeCursor(cursor) === text ? cursor : undefined;
}
