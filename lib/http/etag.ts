import { contentDigest } from '../digest';

/** The HTTP form of a version: a strong ETag is the version in quotes. */
export const etagOf = (version: string): string => `"${version}"`;

/** A strong ETag over the exact bytes of a representation. */
export function strongEtag(body: string): string {
  return etagOf(contentDigest(body));
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

/**
 * If-Match as the versions a client expects (RFC 9110 §13.1.1, strong comparison): `'*'` for any,
 * else the versions inside the strong tags (weak or malformed tags match nothing), undefined
 * without the header. The service compares the versions under its row lock.
 */
export function ifMatchVersions(header: string | undefined): '*' | string[] | undefined {
  if (header === undefined) return undefined;
  const list = tags(header);
  if (list.includes('*')) return '*';
  return list.flatMap((t) => /^"([^"]*)"$/.exec(t)?.slice(1) ?? []);
}
