import { Kysely, MysqlDialect } from 'kysely';
import type { DB } from '../lib/db/types';
import { placeOrder } from '../lib/orders/service';
import { rawPlaceOrder } from './scenarios/raw';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

// A fake mysql2 pool answering every query at once (diagnosis only: the JS cost without I/O).
function fakePool() {
  const row = { id: 5, name: 'Spread product 5', price_cents: 1234, stock: 1000, archived_at: null };
  const ok = { affectedRows: 1, insertId: 0, changedRows: 1 };
  const conn: any = {
    query(sql: string, params: unknown, cb: (e: unknown, r: unknown) => void) {
      if (typeof params === 'function') {
        cb = params as any;
      }
      const res = /^select/i.test(sql) ? [row] : /^(begin|commit|rollback)/i.test(sql) ? ok : ok;
      // format like mysql2 would
      setImmediate(() => cb(null, res));
    },
    release() {},
  };
  return {
    getConnection(cb: (e: unknown, c: unknown) => void) {
      setImmediate(() => cb(null, conn));
    },
    end(cb?: () => void) {
      cb?.();
    },
    on() {},
  } as any;
}
async function main() {
  const pool = fakePool();
  const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  const raw = { pool, end: async () => undefined } as any;
  const fns: Record<string, () => Promise<unknown>> = {
    raw: () => rawPlaceOrder(raw, [{ productId: 5, quantity: 1 }]),
    service: () => placeOrder({ products: [{ product_id: 5, quantity: 1 }] }, db),
  };
  for (let r = 0; r < 2; r++)
    for (const [name, fn] of Object.entries(fns)) {
      for (let i = 0; i < 3000; i++) await fn();
      const c0 = process.cpuUsage();
      const n = 20000;
      for (let i = 0; i < n; i++) await fn();
      const c = process.cpuUsage(c0);
      console.error(name.padEnd(10), ((c.user + c.system) / n).toFixed(1), 'µs/order (no I/O)');
    }
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  for (let i = 0; i < 20000; i++) await fns.service!();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync('/tmp/prof/fake-service.cpuprofile', JSON.stringify(profile));
}
main();
