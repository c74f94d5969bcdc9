import { runSql, type SqlExecutor, valueRows } from '../db/compiled';
import type { StockMovementReason } from '../db/types';

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
export async function recordMovements(trx: SqlExecutor, movements: Movement[], at: Date): Promise<void> {
  const parameters: unknown[] = [];
  let rows = 0;
  for (const m of movements) {
    if (m.delta === 0) continue;
    parameters.push(m.productId, m.delta, m.reason, m.orderId ?? null, at);
    rows += 1;
  }
  if (rows === 0) return;
  await runSql(
    trx,
    `insert into \`stock_movements\` (\`product_id\`, \`delta\`, \`reason\`, \`order_id\`, \`created_at\`) values ${valueRows(rows, 5)}`,
    parameters,
  );
}
