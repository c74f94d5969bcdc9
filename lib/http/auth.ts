import { createHash, timingSafeEqual } from 'node:crypto';
import { config } from '../config';
import { UnauthorizedError } from '../errors';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time check of `Authorization: Bearer <key>` against every configured admin key.
 * Comparing SHA-256 digests gives equal-length buffers, so neither the key's length nor its
 * content leaks through timing; every key is compared even after a match.
 */
export function assertAdmin(authorization: string | undefined, keys: readonly string[] = config().adminApiKeys): void {
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization?.trim() ?? '');
  const presented = digest(match?.[1] ?? '');
  let ok = false;
  for (const key of keys) {
    ok = timingSafeEqual(presented, digest(key)) || ok;
  }
  if (!match || !ok) throw new UnauthorizedError();
}
