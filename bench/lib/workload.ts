/** The orders the load scenarios place: the same generator feeds the raw and the handler runs. */
import type { Line } from './stock-check';

export interface OrderProducts {
  hotId: number;
  /** Ids of the spread set (10,000 products in the full benchmark). */
  spreadIds: number[];
  /** Products of scenarios added later (see ORDER_SHAPES in bench/scenarios/orders.ts), by name. */
  extra?: Record<string, number[]>;
}

export type Shape = 'hot' | 'spread';

/** One line of quantity 1: on the hot product, or on a random product of the spread set. */
export function singleLine(products: OrderProducts, shape: Shape): Line[] {
  if (shape === 'hot') return [{ productId: products.hotId, quantity: 1 }];
  const id = products.spreadIds[Math.floor(Math.random() * products.spreadIds.length)] as number;
  return [{ productId: id, quantity: 1 }];
}

/** `n` distinct random products of the spread set, quantity 1 each, in random order (the service sorts). */
export function manyLines(products: OrderProducts, n: number): Line[] {
  const ids = products.spreadIds;
  if (n > ids.length) throw new Error(`cannot pick ${n} distinct products out of ${ids.length}`);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(ids[Math.floor(Math.random() * ids.length)] as number);
  return [...picked].map((productId) => ({ productId, quantity: 1 }));
}
