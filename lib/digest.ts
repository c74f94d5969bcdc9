import { createHash } from 'node:crypto';

/** A short digest of a text (sha-256, base64url, 192 bits): a content version that changes with every byte. */
export function contentDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}
