import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { runSql, type SqlExecutor } from '../db/compiled';
import { isDuplicateKey, isLockWaitTimeout } from '../db/errors';
import { splitText } from '../db/statement-size';
import type { DB, IdempotencyKeysTable } from '../db/types';
import { IdempotencyKeyInUseError } from '../errors';
import type { OrderLineInput } from './schema';

/**
 * Idempotency keys for `POST /orders`. The key row is written inside the order's own transaction:
 * first as a placeholder (status 0) that makes a concurrent request with the same key wait on its
 * row lock, then completed with the 201 response just before COMMIT. A failed attempt rolls the
 * placeholder back with everything else, so only successful responses are ever stored.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

type Conn = Kysely<DB> | Transaction<DB>;

export interface StoredResponse {
  idem_key: string;
  request_hash: string;
  status_code: number;
  response_body: string;
  location: string | null;
  expires_at: Date;
}

/**
 * SHA-256 of the canonical request: lines sorted by product_id, fixed key order. The same lines in
 * another order, or with other JSON whitespace, are the same request.
 */
export function requestHash(lines: readonly OrderLineInput[]): string {
  const canonical = [...lines]
    .sort((a, b) => a.product_id - b.product_id)
    .map((l) => ({ product_id: l.product_id, quantity: l.quantity }));
  return createHash('sha256')
    .update(JSON.stringify({ products: canonical }))
    .digest('hex');
}

export const isExpired = (row: Pick<StoredResponse, 'expires_at'>, now: Date): boolean =>
  row.expires_at.getTime() <= now.getTime();

/** A plain (non-locking) read of the stored key, committed rows only. */
export async function findKey(conn: Conn, key: string): Promise<StoredResponse | undefined> {
  const { rows } = await runSql<StoredResponse>(
    conn,
    'select `idem_key`, `request_hash`, `status_code`, `response_body`, `location`, `expires_at` from `idempotency_keys` where `idem_key` = ?',
    [key],
  );
  return rows[0];
}

/** Removes the key if (and only if) it has expired, so a fresh request can claim it. */
export async function deleteExpiredKey(trx: SqlExecutor, key: string, now: Date): Promise<void> {
  await runSql(trx, 'delete from `idempotency_keys` where `idem_key` = ? and `expires_at` <= ?', [key, now]);
}

/**
 * Inserts the placeholder row. Returns false when the key already exists (committed by another
 * request, possibly after this one waited for it). If the holder of the key stays in flight past
 * the lock-wait limit, that is reported as 409 idempotency_key_in_use rather than retried.
 */
export async function claimKey(trx: SqlExecutor, key: string, hash: string, now: Date): Promise<boolean> {
  const row: IdempotencyKeysTable = {
    idem_key: key,
    request_hash: hash,
    status_code: 0,
    response_body: '',
    location: null,
    order_id: null,
    created_at: now,
    expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
  };
  try {
    await runSql(
      trx,
      'insert into `idempotency_keys` (`idem_key`, `request_hash`, `status_code`, `response_body`, `location`, `order_id`, `created_at`, `expires_at`) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        row.idem_key,
        row.request_hash,
        row.status_code,
        row.response_body,
        row.location,
        row.order_id,
        row.created_at,
        row.expires_at,
      ],
    );
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    if (isLockWaitTimeout(err)) throw new IdempotencyKeyInUseError();
    throw err;
  }
}

/**
 * Stores the response in the claimed row, in the same transaction as the order. A large body
 * (a 100-line order with long names) is appended in pieces so no statement passes RDS Proxy's
 * 16 KB pinning limit (lib/db/statement-size.ts).
 */
export async function completeKey(
  trx: SqlExecutor,
  key: string,
  response: { statusCode: number; body: string; location: string; orderId: string },
): Promise<void> {
  const [first = '', ...rest] = splitText(response.body);
  await runSql(
    trx,
    'update `idempotency_keys` set `status_code` = ?, `response_body` = ?, `location` = ?, `order_id` = ? where `idem_key` = ?',
    [response.statusCode, first, response.location, response.orderId, key],
  );
  for (const piece of rest) {
    await runSql(
      trx,
      'update `idempotency_keys` set `response_body` = CONCAT(`response_body`, ?) where `idem_key` = ?',
      [piece, key],
    );
  }
}

export interface PurgeResult {
  deleted: number;
  batches: number;
  /** True when the batch limit stopped the purge with expired keys possibly left for the next run. */
  truncated: boolean;
}

/**
 * Deletes expired keys in bounded batches (`DELETE … ORDER BY expires_at LIMIT n`), each its own
 * short autocommit statement, so the purge never holds many locks or a long transaction.
 */
export async function purgeExpiredKeys(
  db: Kysely<DB>,
  now: Date,
  opts: { batchSize?: number; maxBatches?: number } = {},
): Promise<PurgeResult> {
  const batchSize = opts.batchSize ?? 1000;
  const maxBatches = opts.maxBatches ?? 100;
  let deleted = 0;
  for (let batches = 1; batches <= maxBatches; batches++) {
    const res = await db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(batchSize)
      .executeTakeFirst();
    const n = Number(res.numDeletedRows);
    deleted += n;
    if (n < batchSize) return { deleted, batches, truncated: false };
  }
  return { deleted, batches: maxBatches, truncated: true };
}
