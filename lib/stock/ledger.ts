import type { Kysely, Transaction } from 'kysely';
import type { DB, StockMovementReason } from '../db/types';

export interface Movement {
  productId: number;
  /** Signed: +received/restored, −taken. */
  delta: number;
  reason: StockMovementReason;
  orderId?: string | null;
}

/**
 * Writes stock movements in one statement. Call it inside the transaction that changes `stock`,
 * so that for every product `stock` always equals the sum of its movements.
 */
export async function recordMovements(
  trx: Transaction<DB> | Kysely<DB>,
  movements: Movement[],
  at: Date,
): Promise<void> {
  const rows = movements
    .filter((m) => m.delta !== 0)
    .map((m) => ({
      product_id: m.productId,
      delta: m.delta,
      reason: m.reason,
      order_id: m.orderId ?? null,
      created_at: at,
    }));
  if (rows.length === 0) return;
  await trx.insertInto('stock_movements').values(rows).execute();
}
