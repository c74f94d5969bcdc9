/**
 * Lost-update accounting for a load scenario: snapshot the stock of the products it touches, add up
 * every quantity the client was told was ordered (a 201 / a committed raw transaction), and after
 * the run compare `before − Σ ordered` with the stock actually stored. Any difference is a lost (or
 * doubled) update. The ledger is checked too: Σ movements must equal stock for each product.
 */
import type { Connection } from 'mysql2/promise';
import { queryRows } from './databases';

export interface Line {
  productId: number;
  quantity: number;
}

export interface StockAudit {
  products: number;
  ordered_units: number;
  /** Σ over products of |expected − stored| stock. */
  lost_updates: number;
  /** Products whose ledger sum differs from their stock. */
  ledger_mismatches: number;
}

export class StockTracker {
  private readonly ordered = new Map<number, number>();
  private before = new Map<number, number>();

  constructor(readonly productIds: number[]) {}

  async snapshot(c: Connection): Promise<void> {
    this.before = await stocks(c, this.productIds);
    this.ordered.clear();
  }

  /** Call only after the order is known to be committed. */
  add(lines: readonly Line[]): void {
    for (const l of lines) this.ordered.set(l.productId, (this.ordered.get(l.productId) ?? 0) + l.quantity);
  }

  async audit(c: Connection): Promise<StockAudit> {
    const after = await stocks(c, this.productIds);
    let lost = 0;
    let units = 0;
    for (const id of this.productIds) {
      const taken = this.ordered.get(id) ?? 0;
      units += taken;
      const expected = (this.before.get(id) ?? Number.NaN) - taken;
      lost += Math.abs(expected - (after.get(id) ?? Number.NaN));
    }
    const ledger = await ledgerSums(c, this.productIds);
    let mismatches = 0;
    for (const id of this.productIds) if ((ledger.get(id) ?? 0) !== after.get(id)) mismatches++;
    return { products: this.productIds.length, ordered_units: units, lost_updates: lost, ledger_mismatches: mismatches };
  }
}

async function inChunks(ids: number[], fn: (chunk: number[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += 5_000) await fn(ids.slice(i, i + 5_000));
}

async function stocks(c: Connection, ids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await inChunks(ids, async (chunk) => {
    const rows = await queryRows<{ id: number; stock: number }>(c, 'SELECT id, stock FROM products WHERE id IN (?)', [chunk]);
    for (const r of rows) out.set(Number(r.id), Number(r.stock));
  });
  return out;
}

async function ledgerSums(c: Connection, ids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await inChunks(ids, async (chunk) => {
    const rows = await queryRows<{ id: number; total: number | string }>(
      c,
      'SELECT product_id AS id, SUM(delta) AS total FROM stock_movements WHERE product_id IN (?) GROUP BY product_id',
      [chunk],
    );
    for (const r of rows) out.set(Number(r.id), Number(r.total));
  });
  return out;
}
