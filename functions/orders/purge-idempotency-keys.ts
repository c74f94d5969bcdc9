import type { ScheduledEvent } from 'aws-lambda';
import { db } from '../../lib/db/client';
import { type PurgeResult, purgeExpiredKeys } from '../../lib/orders/idempotency';

/**
 * Scheduled (rate 1 hour): deletes Idempotency-Keys whose 24 h have passed, in bounded batches.
 * Keys are therefore kept at least 24 h and at most about 25 h (longer only if a run is truncated).
 */
export const handler = async (_event?: ScheduledEvent): Promise<PurgeResult> => purgeExpiredKeys(db(), new Date());
