/**
 * A database that stops answering, seen from outside: serverless-offline (which enforces each
 * function's timeout, answering with its own error once it passes) in front of a throwaway server
 * frozen with SIGSTOP. Every route that uses the database must answer 503 database_unavailable
 * problem+json, and /health its 503, before the function's timeout: the deadlines of connects and
 * statements shrink to what the Lambda has left (lib/db/statement-deadline.ts), however many
 * lookups a route makes. Then SIGCONT: the same functions serve again.
 */
import { readFile } from 'node:fs/promises';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../lib/db/migrate';
import { ROUTES } from '../../lib/routes';
import {
  createDatabase,
  hasServerBinary,
  type LocalServer,
  startLocalServer,
  withDatabase,
} from '../../scripts/lib/mysql-server';
import { type Offline, startOffline } from '../../scripts/lib/offline';
import { freezeProcess } from '../support/freeze';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const SKIP = !hasServerBinary() && !CI;
if (SKIP)
  console.warn('SKIPPED: database-hung-offline needs a mysqld/mariadbd binary on PATH to freeze one of its own.');

/** Well-formed (lib/orders/ids.ts), so the lookup reaches the database; no such order exists. */
const ORDER_ID = `ord_${'a'.repeat(26)}`;
const ADMIN = { authorization: 'Bearer dev-admin-key-change-me' };
const JSON_BODY = { 'content-type': 'application/json' };

/** One request per route that reaches the database (ids need not exist: the lookup itself hangs). */
const DATABASE_REQUESTS: Array<{
  route: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}> = [
  { route: 'GET /products', method: 'GET', path: '/products' },
  {
    route: 'POST /products',
    method: 'POST',
    path: '/products',
    headers: { ...ADMIN, ...JSON_BODY },
    body: { name: 'hung', price: 1, stock: 1 },
  },
  { route: 'GET /products/{id}', method: 'GET', path: '/products/1' },
  {
    route: 'PATCH /products/{id}',
    method: 'PATCH',
    path: '/products/1',
    headers: { ...ADMIN, ...JSON_BODY },
    body: { price: 2 },
  },
  { route: 'DELETE /products/{id}', method: 'DELETE', path: '/products/1', headers: ADMIN },
  {
    route: 'POST /orders',
    method: 'POST',
    path: '/orders',
    headers: { ...JSON_BODY, 'idempotency-key': 'hung-offline-1' },
    body: { products: [{ product_id: 1, quantity: 1 }] },
  },
  { route: 'GET /orders', method: 'GET', path: '/orders', headers: ADMIN },
  { route: 'GET /orders/{id}', method: 'GET', path: `/orders/${ORDER_ID}` },
  { route: 'POST /orders/{id}/cancel', method: 'POST', path: `/orders/${ORDER_ID}/cancel`, headers: ADMIN },
];
const NO_DATABASE = new Set(['GET /health', 'GET /openapi.json', 'GET /docs', 'GET /docs/{file}']);

let server: LocalServer | undefined;
let serverPid = 0;
let offline: Offline | undefined;

const send = async (r: { method: string; path: string; headers?: Record<string, string>; body?: unknown }) => {
  const started = Date.now();
  const res = await fetch(`${offline?.baseUrl}${r.path}`, {
    method: r.method,
    headers: r.headers,
    body: r.body === undefined ? undefined : JSON.stringify(r.body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, ms: Date.now() - started };
};

describe.skipIf(SKIP)('a hung database behind serverless-offline', () => {
  beforeAll(async () => {
    server = await startLocalServer({ dataDir: '', ephemeral: true });
    await createDatabase(server.url, 'shop');
    const url = withDatabase(server.url, 'shop');
    await migrateToLatest(url);
    const conn = await createConnection({ uri: url });
    try {
      const [rows] = (await conn.query('SELECT @@pid_file AS pidFile')) as unknown as [Array<{ pidFile: string }>];
      serverPid = Number((await readFile(rows[0]?.pidFile ?? '', 'utf8')).trim());
    } finally {
      await conn.end();
    }
    offline = await startOffline({ databaseUrl: url });
  }, 240_000);

  afterAll(async () => {
    if (serverPid > 0) process.kill(serverPid, 'SIGCONT');
    await offline?.stop();
    await server?.stop();
  }, 120_000);

  it('covers every route that uses the database', () => {
    const declared = ROUTES.map((r) => `${r.method} ${r.path}`).filter((k) => !NO_DATABASE.has(k));
    expect(DATABASE_REQUESTS.map((r) => r.route).sort()).toEqual(declared.sort());
  });

  it('answers 503 problem+json on every database route, and /health 503, within each function timeout', async () => {
    // Warm: each function has served once, so pools hold live connections, as in a busy Lambda.
    for (const r of [{ method: 'GET', path: '/health' }, ...DATABASE_REQUESTS.filter((d) => d.method === 'GET')]) {
      expect((await send(r)).status, r.path).toBeLessThan(500);
    }

    await freezeProcess(serverPid);
    let replies: Array<{ route: string; status: number; type: string; text: string; ms: number }>;
    try {
      // One after another: each function's timeout is what is tested, not this machine's cores.
      replies = [];
      for (const r of [{ route: 'GET /health', method: 'GET', path: '/health' }, ...DATABASE_REQUESTS]) {
        replies.push({ route: r.route, ...(await send(r)) });
      }
    } finally {
      process.kill(serverPid, 'SIGCONT');
    }

    // serverless-offline answers a function that ran out of time with its own body
    // (`{"errorMessage": "[504] - Lambda timeout."}`), so a status and a problem code prove the
    // function answered by itself, in time.
    const wrong = replies.filter((r) => {
      if (r.route === 'GET /health') return r.status !== 503 || !r.text.includes('"database":"unreachable"');
      return (
        r.status !== 503 ||
        !r.type.startsWith('application/problem+json') ||
        !r.text.includes('"code":"database_unavailable"')
      );
    });
    console.log(
      `[faults] hung database behind serverless-offline: ${replies.map((r) => `${r.route} ${r.status} in ${r.ms} ms`).join('; ')}`,
    );
    expect(
      wrong.map((r) => `${r.route}: ${r.status} ${r.type} ${r.text.slice(0, 160)}`),
      offline?.output().slice(-3000),
    ).toEqual([]);

    // Answering again.
    expect((await send({ method: 'GET', path: '/health' })).status).toBe(200);
    expect((await send({ method: 'GET', path: `/orders/${ORDER_ID}` })).status).toBe(404);
  }, 180_000);
});
