import { createHash } from 'node:crypto';

/** A strong ETag over the exact bytes of a representation. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

const tags = (header: string): string[] =>
  header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/"x" matches "x". */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const list = tags(header);
  if (list.includes('*')) return true;
  return list.some((t) => (t.startsWith('W/') ? t.slice(2) : t) === etag);
}

/** If-Match uses the strong comparison: a weak tag never matches. */
export function ifMatchHits(header: string, etag: string): boolean {
  const list = tags(header);
  return list.includes('*') || list.includes(etag);
}
