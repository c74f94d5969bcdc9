/**
 * Lost-update accounting for a load scenario. Before the run: the stock of every product the run
 * touches, and the last order's `seq`. After it, in one consistent snapshot: the stock again and
 * Σ quantity of the order lines recorded since. For every product, `before − Σ ordered` must equal
 * the stored stock; Σ |difference| is the lost (or doubled) updates. Two more checks ride along:
 * every order the client was told succeeded must be recorded (`unrecorded_units`), and the ledger
 * must agree with the stock (`ledger_mismatches`).
 */
import type { Connection } from 'mysql2/promise';
import { stockAndLedger } from '../../scripts/lib/invariants';
import { queryRows } from './databases';

export interface Line {
  productId: number;
  quantity: number;
}

export interface StockAudit {
  products: number;
  orders: number;
  ordered_units: number;
  /** Σ over products of |before − Σ ordered − stored|. */
  lost_updates: number;
  /** Units acknowledged to the client (201 / commit) but not in any recorded order. */
  unrecorded_units: number;
  /** Products whose ledger sum differs from their stock. */
  ledger_mismatches: number;
}

export class StockTracker {
  private readonly acked = new Map<number, number>();
  private before = new Map<number, number>();
  private seq = 0;

  constructor(readonly productIds: number[]) {}

  async snapshot(c: Connection): Promise<void> {
    await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    try {
      this.before = await stocks(c, this.productIds);
      const [row] = await queryRows<{ s: number | string | null }>(c, 'SELECT MAX(seq) AS s FROM orders');
      this.seq = Number(row?.s ?? 0);
    } finally {
      await c.query('COMMIT');
    }
    this.acked.clear();
  }

  /** Call once the client has been told the order succeeded. */
  add(lines: readonly Line[]): void {
    for (const l of lines) this.acked.set(l.productId, (this.acked.get(l.productId) ?? 0) + l.quantity);
  }

  async audit(c: Connection): Promise<StockAudit> {
    await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    let after: Map<number, number>;
    let ordered: Map<number, number>;
    let ledger: Map<number, number>;
    let orders: number;
    try {
      after = await stocks(c, this.productIds);
      ordered = new Map();
      const rows = await queryRows<{ id: number; q: number | string }>(
        c,
        'SELECT l.product_id AS id, SUM(l.quantity) AS q FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.seq > ? GROUP BY l.product_id',
        [this.seq],
      );
      for (const r of rows) ordered.set(Number(r.id), Number(r.q));
      const [n] = await queryRows<{ n: number | string }>(c, 'SELECT COUNT(*) AS n FROM orders WHERE seq > ?', [
        this.seq,
      ]);
      orders = Number(n?.n ?? 0);
      ledger = new Map([...(await stockAndLedger(c, this.productIds))].map(([id, v]) => [id, v.ledger]));
    } finally {
      await c.query('COMMIT');
    }
    let lost = 0;
    let units = 0;
    let unrecorded = 0;
    let mismatches = 0;
    for (const id of this.productIds) {
      const taken = ordered.get(id) ?? 0;
      units += taken;
      lost += Math.abs((this.before.get(id) ?? Number.NaN) - taken - (after.get(id) ?? Number.NaN));
      unrecorded += Math.max(0, (this.acked.get(id) ?? 0) - taken);
      if ((ledger.get(id) ?? 0) !== after.get(id)) mismatches++;
    }
    return {
      products: this.productIds.length,
      orders,
      ordered_units: units,
      lost_updates: lost,
      unrecorded_units: unrecorded,
      ledger_mismatches: mismatches,
    };
  }
}

async function inChunks(ids: number[], fn: (chunk: number[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += 5_000) await fn(ids.slice(i, i + 5_000));
}

async function stocks(c: Connection, ids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await inChunks(ids, async (chunk) => {
    // A product's stock is the sum of its shards (docs/decisions/0012-stock-shards.md).
    const rows = await queryRows<{ id: number; stock: number | string }>(
      c,
      'SELECT product_id AS id, SUM(stock) AS stock FROM stock_shards WHERE product_id IN (?) GROUP BY product_id',
      [chunk],
    );
    for (const r of rows) out.set(Number(r.id), Number(r.stock));
  });
  return out;
}
