import { randomUUID } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as createProduct } from '../../functions/products/create-product';
import { handler as deleteProduct } from '../../functions/products/delete-product';
import { handler as updateProduct } from '../../functions/products/update-product';
import { closeDb, db } from '../../lib/db/client';
import { invoke } from '../../scripts/lib/lambda';
import { stockAndLedger } from '../../scripts/lib/invariants';

/*
 * Model-based: random sequences of create product / set stock / archive / order / cancel /
 * Idempotency-Key replay (same body, and another body) run against the real handlers and against
 * a few lines of in-memory model. After every step both agree on the status code, and on every
 * product's stock, which must also equal its ledger sum. Products are created with 1–8 stock
 * shards and re-sharded at random: the model keeps one total per product, the database splits it
 * however it likes (Σ of its shards is what is compared). fast-check shrinks a failing sequence to
 * a minimal one.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 120);
const UNKNOWN_ID = 2 ** 40;

interface MProduct {
  name: string;
  priceCents: number;
  stock: number;
  archived: boolean;
}
interface MLine {
  p: number; // index into model.products, or -1 for an id that does not exist
  q: number;
}
interface MOrder {
  lines: MLine[];
  cancelled: boolean;
  key: string | undefined;
}
interface Model {
  prefix: string;
  products: MProduct[];
  orders: MOrder[];
}
interface Real {
  productIds: number[];
  orderIds: string[];
  keySeq: number;
}

let requests = 0;
let steps = 0;
const send: typeof invoke = async (handler, options) => {
  requests += 1;
  return invoke(handler, options);
};

const productIdOf = (r: Real, p: number): number => (p < 0 ? UNKNOWN_ID : r.productIds[p]!);
const bodyOf = (r: Real, lines: MLine[]) => ({
  products: lines.map((l) => ({ product_id: productIdOf(r, l.p), quantity: l.q })),
});

/** Every product of the model has the model's stock in the database, and its ledger agrees. */
async function expectSameStock(m: Model, r: Real): Promise<void> {
  steps += 1;
  if (r.productIds.length === 0) return;
  const actual = Object.fromEntries(await stockAndLedger(db(), r.productIds));
  const expected = Object.fromEntries(
    r.productIds.map((id, i) => [id, { stock: m.products[i]!.stock, ledger: m.products[i]!.stock }]),
  );
  expect(actual).toEqual(expected);
}

class CreateProduct implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly priceCents: number,
    readonly stock: number,
    readonly shards: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const name = `${m.prefix} ${this.slot}`;
    const taken = m.products.some((p) => p.name === name && !p.archived);
    const res = await send(createProduct, {
      method: 'POST',
      path: '/products',
      admin: true,
      json: { name, price: this.priceCents / 100, stock: this.stock, stock_shards: this.shards },
    });
    expect(res.status === 409 ? res.body.code : res.status).toBe(taken ? 'product_name_taken' : 201);
    if (!taken) {
      expect(res.body).toMatchObject({
        name,
        price: this.priceCents / 100,
        stock: this.stock,
        stock_shards: this.shards,
      });
      m.products.push({ name, priceCents: this.priceCents, stock: this.stock, archived: false });
      r.productIds.push(res.body.id);
    }
    await expectSameStock(m, r);
  }
  toString = () => `create(slot ${this.slot}, ${this.priceCents}c, stock ${this.stock} in ${this.shards})`;
}

class SetStock implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly stock: number,
  ) {}
  check = (m: Readonly<Model>) => m.products.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.products.length;
    const p = m.products[i]!;
    const id = r.productIds[i]!;
    const res = await send(updateProduct, {
      method: 'PATCH',
      path: `/products/${id}`,
      route: '/products/{id}',
      pathParameters: { id: String(id) },
      admin: true,
      json: { stock: this.stock },
    });
    expect(res.status).toBe(p.archived ? 404 : 200);
    if (!p.archived) p.stock = this.stock;
    await expectSameStock(m, r);
  }
  toString = () => `setStock(#${this.pick}, ${this.stock})`;
}

/** Changes a product's shard count: nothing a client sees changes but stock_shards. */
class Reshard implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly shards: number,
  ) {}
  check = (m: Readonly<Model>) => m.products.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.products.length;
    const p = m.products[i]!;
    const id = r.productIds[i]!;
    const res = await send(updateProduct, {
      method: 'PATCH',
      path: `/products/${id}`,
      route: '/products/{id}',
      pathParameters: { id: String(id) },
      admin: true,
      json: { stock_shards: this.shards },
    });
    expect(res.status).toBe(p.archived ? 404 : 200);
    if (!p.archived) expect(res.body).toMatchObject({ stock: p.stock, stock_shards: this.shards });
    await expectSameStock(m, r);
  }
  toString = () => `reshard(#${this.pick}, ${this.shards})`;
}

class Archive implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.products.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.products.length;
    const p = m.products[i]!;
    const id = r.productIds[i]!;
    const res = await send(deleteProduct, {
      method: 'DELETE',
      path: `/products/${id}`,
      route: '/products/{id}',
      pathParameters: { id: String(id) },
      admin: true,
    });
    expect(res.status).toBe(p.archived ? 404 : 204);
    p.archived = true;
    await expectSameStock(m, r);
  }
  toString = () => `archive(#${this.pick})`;
}

class PlaceOrder implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly picks: Array<{ pick: number; q: number }>,
    readonly withKey: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.products.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const lines: MLine[] = this.picks.map(({ pick, q }) => ({ p: pick < 0 ? -1 : pick % m.products.length, q }));
    const key = this.withKey ? `${m.prefix}-key-${r.keySeq++}` : undefined;
    const res = await send(createOrder, {
      method: 'POST',
      path: '/orders',
      json: bodyOf(r, lines),
      ...(key ? { headers: { 'Idempotency-Key': key } } : {}),
    });

    const ids = lines.map((l) => l.p);
    const dup = new Set(ids).size !== ids.length;
    const unknown = lines.some((l) => l.p < 0 || m.products[l.p]!.archived);
    const short = lines.some((l) => l.p >= 0 && l.q > m.products[l.p]!.stock);
    const expected = dup ? 400 : unknown ? 422 : short ? 409 : 201;
    expect(res.status, JSON.stringify(res.body)).toBe(expected);
    if (expected === 201) {
      const total = lines.reduce((s, l) => s + l.q * m.products[l.p]!.priceCents, 0);
      expect(Math.round(res.body.total_price * 100)).toBe(total);
      for (const l of lines) m.products[l.p]!.stock -= l.q;
      m.orders.push({ lines, cancelled: false, key });
      r.orderIds.push(res.body.id);
    }
    await expectSameStock(m, r);
  }
  toString = () =>
    `order(${this.picks.map((l) => `${l.pick < 0 ? 'unknown' : `#${l.pick}`}×${l.q}`).join(', ')}${this.withKey ? ', key' : ''})`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.orders.length;
    const o = m.orders[i]!;
    const id = r.orderIds[i]!;
    const res = await send(cancelOrder, {
      method: 'POST',
      path: `/orders/${id}/cancel`,
      route: '/orders/{id}/cancel',
      pathParameters: { id },
      admin: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    if (!o.cancelled) for (const l of o.lines) m.products[l.p]!.stock += l.q;
    o.cancelled = true;
    await expectSameStock(m, r);
  }
  toString = () => `cancel(order #${this.pick})`;
}

class Replay implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly sameBody: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.orders.some((o) => o.key !== undefined);
  async run(m: Model, r: Real): Promise<void> {
    const keyed = m.orders.map((o, i) => ({ o, i })).filter(({ o }) => o.key !== undefined);
    const { o, i } = keyed[this.pick % keyed.length]!;
    const lines = this.sameBody ? o.lines : o.lines.map((l, n) => (n === 0 ? { ...l, q: l.q + 1 } : l));
    const res = await send(createOrder, {
      method: 'POST',
      path: '/orders',
      json: bodyOf(r, this.sameBody ? [...lines].reverse() : lines), // line order does not matter
      headers: { 'Idempotency-Key': o.key! },
    });
    if (this.sameBody) {
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBe('true');
      expect(res.body.id).toBe(r.orderIds[i]);
      expect(res.body.status).toBe('confirmed'); // the stored response, even if cancelled since
    } else {
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('idempotency_key_reused');
    }
    await expectSameStock(m, r);
  }
  toString = () => `replay(keyed order #${this.pick}, ${this.sameBody ? 'same body' : 'other body'})`;
}

const commands = [
  fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 5_000 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 1, max: 8 }),
    )
    .map(([slot, price, stock, shards]) => new CreateProduct(slot, price, stock, shards)),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 12 })).map(([pick, stock]) => new SetStock(pick, stock)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 64 })).map(([pick, shards]) => new Reshard(pick, shards)),
  fc.nat().map((pick) => new Archive(pick)),
  fc
    .tuple(
      fc.array(
        fc.record({
          pick: fc.oneof({ weight: 15, arbitrary: fc.nat() }, fc.constant(-1)),
          q: fc.integer({ min: 1, max: 6 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      fc.boolean(),
    )
    .map(([picks, withKey]) => new PlaceOrder(picks, withKey)),
  fc.nat().map((pick) => new PlaceOrder([{ pick, q: 1 }], true)),
  fc.nat().map((pick) => new Cancel(pick)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, same]) => new Replay(pick, same)),
];

describe('the service against a model', () => {
  afterAll(async () => {
    console.log(`[model] ${requests} requests in ${steps} checked steps`);
    await closeDb();
  });

  test.prop([fc.commands(commands, { maxCommands: 40, size: 'max' })], { numRuns: RUNS })(
    'random create / set stock / archive / order / cancel / replay sequences give the same status codes and stock as the model',
    async (cmds) => {
      await fc.asyncModelRun(
        () => ({
          model: { prefix: `Model ${randomUUID()}`, products: [], orders: [] },
          real: { productIds: [], orderIds: [], keySeq: 0 },
        }),
        cmds,
      );
    },
    240_000,
  );
});
