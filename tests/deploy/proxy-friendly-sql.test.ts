/**
 * RDS Proxy multiplexes a client connection only while the session carries no state it cannot
 * move: it pins on SET of untracked variables, server-side prepared statements, statements over
 * 16 KB, GET_LOCK and temporary tables. This runs real orders through the real handlers with the
 * prod session settings and records every command mysql2 hands to the server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as getOrder } from '../../functions/orders/get-order';
import { resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/db/client';
import { MAX_ORDER_LINES } from '../../lib/orders/schema';
import { invoke } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';
import { recordCommands } from '../../scripts/lib/sent-commands';

const PROXY_STATEMENT_LIMIT_BYTES = 16 * 1024;

async function useSessionSettings(env: Record<string, string>): Promise<void> {
  await closeDb(); // new pools, so new connections and their set-up are captured too
  Object.assign(process.env, env);
  resetConfigForTests();
}

const order = (lines: Array<{ product_id: number; quantity: number }>, key?: string) =>
  invoke(createOrder, {
    method: 'POST',
    path: '/orders',
    json: { products: lines },
    headers: key ? { 'Idempotency-Key': key } : {},
  });

afterAll(async () => {
  await closeDb();
});

describe('the SQL the order path sends, with the prod settings (DB_LOCK_WAIT_TIMEOUT_S=0)', () => {
  it('never pins RDS Proxy: no SET, GET_LOCK, temporary table, PREPARE or execute, each statement under 16 KB', async () => {
    await useSessionSettings({ DB_LOCK_WAIT_TIMEOUT_S: '0', DB_POOL_SIZE: '2' });
    const one = await makeProduct({ stock: 1_000 });
    const many = [];
    // The longest names the contract allows (255 characters), in 3-byte characters and characters
    // that SQL and JSON escape, so the 100-line statements are as large as they can get.
    const longName = () => `${randomUUID()} ${'杯\'"\\'.repeat(60)}`.slice(0, 255);
    for (let i = 0; i < MAX_ORDER_LINES; i++) many.push(await makeProduct({ stock: 1_000, name: longName() }));
    const hundredLines = many.map((p) => ({ product_id: p.id, quantity: 2 }));
    await useSessionSettings({ DB_LOCK_WAIT_TIMEOUT_S: '0', DB_POOL_SIZE: '2' });

    const statuses: number[] = [];
    const log = await recordCommands(async () => {
      const single = await order([{ product_id: one.id, quantity: 1 }]);
      const keyOne = randomUUID();
      const singleKeyed = await order([{ product_id: one.id, quantity: 1 }], keyOne);
      const singleReplay = await order([{ product_id: one.id, quantity: 1 }], keyOne);
      const big = await order(hundredLines);
      const keyBig = randomUUID();
      const bigKeyed = await order(hundredLines, keyBig);
      const bigReplay = await order(hundredLines, keyBig);
      const tooMany = await order([{ product_id: one.id, quantity: 999 }]); // 998 left: 409
      const id = String(bigKeyed.body.id);
      const cancelled = await invoke(cancelOrder, {
        method: 'POST',
        path: `/orders/${id}/cancel`,
        route: '/orders/{id}/cancel',
        pathParameters: { id },
        admin: true,
      });
      const read = await invoke(getOrder, { path: `/orders/${id}`, route: '/orders/{id}', pathParameters: { id } });
      // The stored response went in as several pieces; the replay must be byte-for-byte the original.
      expect(bigReplay.text).toBe(bigKeyed.text);
      expect(bigReplay.headers['idempotent-replayed']).toBe('true');
      statuses.push(
        ...[single, singleKeyed, singleReplay, big, bigKeyed, bigReplay, tooMany, cancelled, read].map((r) => r.status),
      );
    });
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 409, 200, 200]);

    const queries = log.filter((s) => s.command === 'Query').map((s) => s.sql ?? '');
    // The capture saw the real work: the order rows, the 100-line insert, the cancel.
    expect(queries.some((q) => /^insert into `orders`/i.test(q))).toBe(true);
    expect(queries.some((q) => /^insert into `order_lines`/i.test(q))).toBe(true);
    expect(queries.some((q) => /^update `orders` set `status`/i.test(q))).toBe(true);

    const commands = new Set(log.map((s) => s.command));
    expect([...commands].filter((c) => c !== 'Query' && c !== 'ClientHandshake')).toEqual([]);
    for (const q of queries) {
      expect(q, 'a SET pins the session').not.toMatch(/^\s*SET\b/i);
      expect(q).not.toMatch(/\b(GET_LOCK|RELEASE_LOCK|IS_USED_LOCK)\s*\(/i);
      expect(q).not.toMatch(/\bTEMPORARY\b/i);
      expect(q).not.toMatch(/^\s*(PREPARE|EXECUTE|DEALLOCATE)\b/i);
      expect(q).not.toMatch(/^\s*LOCK\s+TABLES\b/i);
      expect(q).not.toMatch(/@[A-Za-z_]\w*\s*:?=/); // user variables
      expect(Buffer.byteLength(q, 'utf8'), q.slice(0, 80)).toBeLessThan(PROXY_STATEMENT_LIMIT_BYTES);
    }
    const largest = Math.max(...queries.map((q) => Buffer.byteLength(q, 'utf8')));
    console.log(
      `order path: ${queries.length} statements, the largest ${largest} bytes (limit ${PROXY_STATEMENT_LIMIT_BYTES})`,
    );
  });

  it('would see a pinning statement: with the dev setting every new connection SETs the lock wait', async () => {
    await useSessionSettings({ DB_LOCK_WAIT_TIMEOUT_S: '3' });
    const product = await makeProduct({ stock: 10 });
    await useSessionSettings({ DB_LOCK_WAIT_TIMEOUT_S: '3' });
    const log = await recordCommands(async () => {
      expect((await order([{ product_id: product.id, quantity: 1 }])).status).toBe(201);
    });
    expect(log.map((s) => s.sql)).toContain('SET SESSION innodb_lock_wait_timeout = 3');
  });

  it('would see a server-side prepared statement: mysql2 execute() is recorded as Prepare/Execute', async () => {
    const log = await recordCommands(async () => {
      const { createConnection } = await import('mysql2/promise');
      const c = await createConnection({ uri: process.env.DATABASE_URL as string });
      try {
        await c.execute('SELECT ? AS x', [1]);
      } finally {
        await c.end();
      }
    });
    expect(log.map((s) => s.command)).toEqual(expect.arrayContaining(['Prepare', 'Execute']));
  });
});
