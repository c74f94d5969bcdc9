import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { DEV_ADMIN_API_KEY, resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/db/client';
import { InsufficientStockError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { countRetry } from '../../lib/observability/counters';
import { invocationScope } from '../../lib/request-scope';
import { resetLoggerForTests } from '../../lib/observability/logger';
import { resetMetricsForTests } from '../../lib/observability/metrics';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as health } from '../../functions/system/health';
import { handler as notFound } from '../../functions/system/not-found';
import { apiEvent, invoke, lambdaContext } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';

// A short lock wait, so the retried order below takes about a second (set before the pool exists).
process.env.DB_LOCK_WAIT_TIMEOUT_S = '1';

/**
 * Real handlers, real chain, real Powertools output: stdout is captured while a request runs and
 * every line is parsed as JSON (one log line per request, EMF lines for metrics).
 */
type Line = Record<string, unknown>;

async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Line[]; raw: string }> {
  const chunks: string[] = [];
  // Powertools writes INFO and EMF to stdout, WARN/ERROR to stderr; Lambda sends both to CloudWatch.
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await fn();
    const raw = chunks.join('');
    const lines = raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line);
    return { result, lines, raw };
  } finally {
    streams.forEach((s, i) => {
      s.write = writes[i] as typeof s.write;
    });
  }
}

const emfLines = (lines: Line[]) => lines.filter((l) => typeof l._aws === 'object');

/** The value of metric `name` summed over the EMF lines, with the dimension sets it was sent with. */
function metric(lines: Line[], name: string): { total: number; dimensionSets: string[][]; lines: Line[] } {
  const withIt = emfLines(lines).filter((l) => name in l);
  const dimensionSets = withIt.flatMap((l) => {
    const aws = l._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
    return aws.CloudWatchMetrics.filter((d) => d.Metrics.some((m) => m.Name === name)).flatMap((d) => d.Dimensions);
  });
  const total = withIt.reduce((sum, l) => sum + (l[name] as number), 0);
  return { total, dimensionSets, lines: withIt };
}

const SECRET_BODY_VALUE = 'card-4111-1111-1111-1111';
const COOKIE_VALUE = 'session=very-secret-cookie';

const adminEcho = endpoint(
  { functionName: 'test', admin: true, orderMetrics: true, body: z.object({ card: z.string() }).strict() },
  async () => json(200, { ok: true }),
);
const crashing = endpoint({ functionName: 'test' }, async () => {
  throw new Error('kaboom: connection string mysql://root:pw@db/shop');
});
const placing = endpoint({ functionName: 'test', orderMetrics: true }, async ({ context }) => {
  countRetry(invocationScope(context));
  countRetry(invocationScope(context));
  return json(201, { id: 'ord_x' });
});
const replaying = endpoint({ functionName: 'test', orderMetrics: true }, async () =>
  json(201, { id: 'ord_x' }, { 'Idempotent-Replayed': 'true' }),
);
const shortOfStock = endpoint({ functionName: 'test', orderMetrics: true }, async () => {
  throw new InsufficientStockError([{ product_id: 1, requested: 5, available: 2 }]);
});
const retrying = (n: number) =>
  endpoint({ functionName: 'test' }, async ({ context }) => {
    for (let i = 0; i < n; i++) {
      countRetry(invocationScope(context));
      await new Promise((r) => setImmediate(r));
    }
    return json(200, {});
  });

const saved = { LOG_LEVEL: process.env.LOG_LEVEL, METRICS_ENABLED: process.env.METRICS_ENABLED };

function reconfigure(env: { LOG_LEVEL: string; METRICS_ENABLED: string }): void {
  process.env.LOG_LEVEL = env.LOG_LEVEL;
  process.env.METRICS_ENABLED = env.METRICS_ENABLED;
  resetConfigForTests();
  resetLoggerForTests();
  resetMetricsForTests();
}

afterAll(async () => {
  process.env.LOG_LEVEL = saved.LOG_LEVEL;
  process.env.METRICS_ENABLED = saved.METRICS_ENABLED;
  resetConfigForTests();
  resetLoggerForTests();
  resetMetricsForTests();
  await closeDb();
});

describe('request logs', () => {
  beforeAll(() => reconfigure({ LOG_LEVEL: 'info', METRICS_ENABLED: 'false' }));

  it('writes one JSON line per request with request id, route, status, duration and cold-start flag', async () => {
    const { result, lines } = await captured(() => invoke(health, { path: '/health' }));
    expect(result.status).toBe(200);
    expect(lines).toHaveLength(1);
    const line = lines[0] as Line;
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'request',
      service: 'shop-api',
      request_id: result.headers['x-request-id'],
      route: 'GET /health',
      path: '/health',
      status: 200,
    });
    expect(typeof line.duration_ms).toBe('number');
    expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
    // Each test file loads the modules afresh, like a new Lambda instance: this is its first request.
    expect(line.cold_start).toBe(true);
    expect(line).not.toHaveProperty('code');
  });

  it('marks later requests of the same instance as warm', async () => {
    const { lines } = await captured(() => invoke(health, { path: '/health' }));
    expect(lines[0]).toMatchObject({ cold_start: false });
  });

  it('adds the problem code of a failure, with the catch-all logged as method and path', async () => {
    // API Gateway (and serverless-offline) give the catch-all route the key `$default`.
    const event = { ...apiEvent({ method: 'DELETE', path: '/health' }), routeKey: '$default' };
    const { result, lines } = await captured(() => notFound(event, lambdaContext()));
    expect(result).toMatchObject({ statusCode: 405 });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'INFO', route: 'DELETE /health', status: 405, code: 'method_not_allowed' }),
    ]);
  });

  it('never logs the Authorization header, cookies or the request body', async () => {
    const wrongKey = 'Bearer not-the-key-0123456789';
    const rejected = await captured(() =>
      invoke(adminEcho, {
        method: 'POST',
        path: '/echo',
        headers: { authorization: wrongKey, cookie: COOKIE_VALUE },
        json: { card: SECRET_BODY_VALUE },
      }),
    );
    const accepted = await captured(() =>
      invoke(adminEcho, {
        method: 'POST',
        path: '/echo',
        admin: true,
        headers: { cookie: COOKIE_VALUE },
        json: { card: SECRET_BODY_VALUE },
      }),
    );
    expect(rejected.result.status).toBe(401);
    expect(accepted.result.status).toBe(200);
    expect(rejected.lines).toEqual([expect.objectContaining({ status: 401, code: 'unauthorized' })]);
    expect(accepted.lines).toEqual([expect.objectContaining({ status: 200 })]);
    for (const raw of [rejected.raw, accepted.raw]) {
      expect(raw).not.toContain('not-the-key');
      expect(raw).not.toContain(DEV_ADMIN_API_KEY);
      expect(raw).not.toContain('very-secret-cookie');
      expect(raw).not.toContain(SECRET_BODY_VALUE);
      expect(raw.toLowerCase()).not.toContain('authorization');
    }
  });

  it('logs an unexpected error with its stack server-side while the client sees a bare 500', async () => {
    const { result, lines } = await captured(() => invoke(crashing, { path: '/crash' }));
    expect(result.status).toBe(500);
    expect(result.text).not.toContain('kaboom');
    expect(lines).toHaveLength(1);
    const line = lines[0] as Line & { error: { message: string; stack: string } };
    expect(line).toMatchObject({ level: 'ERROR', message: 'request failed', status: 500, code: 'internal_error' });
    expect(line.error.message).toContain('kaboom');
    expect(line.error.stack).toContain('observability.test.ts');
  });
});

describe('quiet by default in tests', () => {
  beforeAll(() => reconfigure({ LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' }));

  it('writes nothing at log level silent with metrics off', async () => {
    const { result, raw } = await captured(() => invoke(crashing, { path: '/crash' }));
    expect(result.status).toBe(500);
    expect(raw).toBe('');
  });
});

describe('EMF metrics', () => {
  beforeAll(() => reconfigure({ LOG_LEVEL: 'silent', METRICS_ENABLED: 'true' }));

  it('emits Http5xx on every request: 0 for a success, 1 for a 500, in the configured namespace', async () => {
    const ok = await captured(() => invoke(health, { path: '/health' }));
    const failed = await captured(() => invoke(crashing, { path: '/crash' }));
    expect(metric(ok.lines, 'Http5xx').total).toBe(0);
    expect(metric(failed.lines, 'Http5xx').total).toBe(1);
    const line = metric(failed.lines, 'Http5xx').lines[0] as Line & {
      _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string }> };
    };
    expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('ShopApi');
    expect(line.service).toBe('shop-api');
    expect(line.request_id).toBe(failed.result.headers['x-request-id']);
    expect(typeof line._aws.Timestamp).toBe('number');
  });

  it('counts a placed order and the database retries it took', async () => {
    const { lines } = await captured(() => invoke(placing, { method: 'POST', path: '/orders' }));
    expect(metric(lines, 'OrdersPlaced').total).toBe(1);
    expect(metric(lines, 'DbRetries').total).toBe(2);
    expect(metric(lines, 'OrdersRejected').total).toBe(0);
  });

  it('counts orders only for a route that declares order metrics', async () => {
    const undeclared = endpoint({ functionName: 'test' }, async () => json(201, { id: 'ord_x' }));
    const { lines } = await captured(() => invoke(undeclared, { method: 'POST', path: '/orders' }));
    expect(metric(lines, 'Http5xx').lines).toHaveLength(1); // metrics were emitted
    expect(metric(lines, 'OrdersPlaced').lines).toEqual([]);
  });

  it('does not count an idempotent replay as a new order', async () => {
    const { lines } = await captured(() => invoke(replaying, { method: 'POST', path: '/orders' }));
    expect(metric(lines, 'OrdersPlaced').total).toBe(0);
  });

  it('counts a stock conflict, and a rejected order by code with a total across codes', async () => {
    const { result, lines } = await captured(() => invoke(shortOfStock, { method: 'POST', path: '/orders' }));
    expect(result.status).toBe(409);
    expect(metric(lines, 'StockConflicts').total).toBe(1);
    const rejected = metric(lines, 'OrdersRejected');
    expect(rejected.total).toBe(1);
    expect(rejected.dimensionSets).toEqual([['service'], ['service', 'code']]);
    expect(rejected.lines[0]).toMatchObject({ code: 'insufficient_stock' });
    expect(metric(lines, 'OrdersPlaced').total).toBe(0);
  });

  it('counts a validation failure on POST /orders as rejected with its code, not as a stock conflict', async () => {
    const { lines } = await captured(() =>
      invoke(adminEcho, { method: 'POST', path: '/orders', admin: true, json: { nope: 1 } }),
    );
    expect(metric(lines, 'OrdersRejected').lines[0]).toMatchObject({ code: 'validation_failed', OrdersRejected: 1 });
    expect(metric(lines, 'StockConflicts').total).toBe(0);
  });

  it('keeps the retries of concurrent requests apart', async () => {
    const { lines } = await captured(() =>
      Promise.all([invoke(retrying(3), { path: '/a' }), invoke(retrying(5), { path: '/b' })]),
    );
    const byRequest = metric(lines, 'DbRetries').lines.map((l) => l.DbRetries);
    expect(byRequest.sort()).toEqual([3, 5]);
  });

  it('reads the figures of real orders: placed, short of stock, and retried after a lock wait', async () => {
    const product = await makeProduct({ stock: 3 });
    const order = (quantity: number) =>
      invoke(createOrder, {
        method: 'POST',
        path: '/orders',
        json: { products: [{ product_id: product.id, quantity }] },
      });

    const placed = await captured(() => order(1));
    expect(placed.result.status).toBe(201);
    expect(metric(placed.lines, 'OrdersPlaced').total).toBe(1);
    expect(metric(placed.lines, 'Http5xx').total).toBe(0);

    const short = await captured(() => order(50));
    expect(short.result.status).toBe(409);
    expect(metric(short.lines, 'StockConflicts').total).toBe(1);
    expect(metric(short.lines, 'OrdersRejected').lines[0]).toMatchObject({ code: 'insufficient_stock' });
    expect(metric(short.lines, 'OrdersPlaced').total).toBe(0);

    // Another transaction holds the product's row past the 1 s lock wait, then lets go: the order
    // times out once (at least), is retried, and succeeds.
    const locker = await createConnection({ uri: inject('databaseUrl') });
    try {
      await locker.beginTransaction();
      await locker.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [product.id]);
      const release = new Promise((r) => setTimeout(r, 1_500)).then(() => locker.rollback());
      const retried = await captured(() => order(1));
      await release;
      expect(retried.result.status).toBe(201);
      expect(metric(retried.lines, 'DbRetries').total).toBeGreaterThanOrEqual(1);
      expect(metric(retried.lines, 'OrdersPlaced').total).toBe(1);
    } finally {
      await locker.end();
    }
  });
});

// Powertools runs against a plain copy of the environment (lib/observability/env-snapshot.ts): what
// it reads must still be what the environment says, and the real process.env must come back.
describe('the environment Powertools reads', () => {
  beforeAll(() => reconfigure({ LOG_LEVEL: 'info', METRICS_ENABLED: 'true' }));
  const TRACE = '_X_AMZN_TRACE_ID';
  const savedTrace = process.env[TRACE];
  afterAll(() => {
    if (savedTrace === undefined) delete process.env[TRACE];
    else process.env[TRACE] = savedTrace;
  });

  it("logs each invocation's own X-Ray trace id, which the Lambda runtime sets per invocation", async () => {
    const traceOf = async () => {
      const { lines } = await captured(() => invoke(health, { path: '/health' }));
      return lines.find((l) => l.message === 'request')?.xray_trace_id;
    };
    process.env[TRACE] = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1';
    expect(await traceOf()).toBe('1-5759e988-bd862e3fe1be46a994272793');
    process.env[TRACE] = 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=0';
    expect(await traceOf()).toBe('1-67891233-abcdef012345678912345678');
    delete process.env[TRACE];
    expect(await traceOf()).toBeUndefined();
  });

  it('leaves the real process.env in place after a request, a failed one included', async () => {
    const before = process.env;
    await captured(() => invoke(health, { path: '/health' }));
    expect(process.env).toBe(before);
    const { result } = await captured(() => invoke(crashing, { path: '/boom' }));
    expect(result.status).toBe(500);
    expect(process.env).toBe(before);
    // Still the real environment: a value set now is seen by a child process.
    process.env.SHOP_API_ENV_CHECK = 'yes';
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync(process.execPath, ['-p', 'process.env.SHOP_API_ENV_CHECK']).toString().trim()).toBe('yes');
    delete process.env.SHOP_API_ENV_CHECK;
  });

  it('takes settings changed in the environment once the Logger is made again', async () => {
    process.env.POWERTOOLS_SERVICE_NAME = 'shop-api-renamed';
    try {
      reconfigure({ LOG_LEVEL: 'info', METRICS_ENABLED: 'true' });
      const { lines } = await captured(() => invoke(health, { path: '/health' }));
      expect(lines.find((l) => l.message === 'request')?.service).toBe('shop-api-renamed');
      expect(metric(lines, 'Http5xx').lines[0]?.service).toBe('shop-api-renamed');
    } finally {
      delete process.env.POWERTOOLS_SERVICE_NAME;
      reconfigure({ LOG_LEVEL: 'info', METRICS_ENABLED: 'true' });
    }
  });
});
