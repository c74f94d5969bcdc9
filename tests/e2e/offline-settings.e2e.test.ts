/**
 * What `npm run dev`'s serverless-offline settings keep, over real HTTP (docs/development.md,
 * "serverless-offline settings"): handlers in process (`devOfflineFlags`), deploy/offline-dev.js
 * (serverless-offline's per-request lines and their log calls off, each bundle found through a link
 * without its extension). Two servers:
 *
 * - a one-function fixture (tests/e2e/fixtures/offline-settings) whose handler echoes what it was
 *   given, sleeps past its 1 s timeout or throws: the event and context a handler gets, the module
 *   loaded once from its real file, the timeout still enforced, errors still printed;
 * - this service itself with the handlers' logs and metrics on, as `npm run dev` runs it: one JSON
 *   line per request from the handler, none from serverless-offline, each function's module kept
 *   between requests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePorts } from '../../scripts/lib/free-port';
import { type Offline, startOffline } from '../../scripts/lib/offline';
import { devOfflineFlags } from '../../scripts/lib/offline-flags';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'offline-settings');
const BUILD = join(FIXTURE, '.esbuild', 'fixture', 'functions');

interface Fixture {
  baseUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** serverless-offline on the fixture service, with npm run dev's flags. */
async function startFixture(): Promise<Fixture> {
  rmSync(join(FIXTURE, '.esbuild'), { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  copyFileSync(join(FIXTURE, 'echo.js'), join(BUILD, 'echo.js'));
  const [port, lambdaPort] = await freePorts(2);
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'offline',
      'start',
      '--httpPort',
      String(port),
      '--lambdaPort',
      String(lambdaPort),
      ...devOfflineFlags({}),
    ],
    {
      cwd: FIXTURE,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const append = (d: Buffer): void => {
    log += d.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 90_000;
  while (!log.includes('Server ready')) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`serverless-offline did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl: `http://127.0.0.1:${port}`, output: () => log, stop };
}

/** What the fixture answers; `event` is read field by field. */
type Echo = { event: any; calls: number; file: string; functionName: string; remainingMs: number; env: any };

describe('the fixture behind npm run dev settings', () => {
  let fixture: Fixture | undefined;

  beforeAll(async () => {
    fixture = await startFixture();
  }, 120_000);

  afterAll(async () => {
    await fixture?.stop();
    rmSync(join(FIXTURE, '.esbuild'), { recursive: true, force: true });
  });

  const echo = async (
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; headers: Headers; text: string }> => {
    const res = await fetch(`${fixture?.baseUrl}${path}`, init);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  it('hands the handler an API Gateway v2 event: lower-case header names, body null without one, the route key', async () => {
    const got = await echo('/echo?a=1&a=2&b=x', { headers: { 'X-Mixed-Case': 'Kept', Accept: 'application/json' } });
    expect(got.status).toBe(200);
    const { event } = JSON.parse(got.text) as Echo;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /echo',
      rawPath: '/echo',
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      isBase64Encoded: false,
      body: null,
      requestContext: { http: { method: 'GET', path: '/echo' }, routeKey: 'GET /echo' },
    });
    expect(event.headers['x-mixed-case']).toBe('Kept');
    expect(Object.keys(event.headers).filter((k) => k !== k.toLowerCase())).toEqual([]);
    expect(typeof event.requestContext.timeEpoch).toBe('number');
    // The response's headers reach the client as the handler set them (names are case-insensitive).
    expect(got.headers.get('x-echo-mixed-case')).toBe('yes');

    const posted = await echo('/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"x":1}',
    });
    expect(JSON.parse(posted.text).event).toMatchObject({
      routeKey: 'POST /echo',
      body: '{"x":1}',
      isBase64Encoded: false,
    });
  });

  it('gives the function its environment and a context counting down from its timeout', async () => {
    const got = JSON.parse((await echo('/echo')).text) as Echo;
    expect(got.env).toEqual({ FIXTURE_VAR: 'from-serverless-yml', IS_OFFLINE: 'true' });
    expect(got.functionName).toBe('offline-settings-fixture-dev-echo');
    expect(got.remainingMs).toBeGreaterThan(0);
    expect(got.remainingMs).toBeLessThanOrEqual(1_000);
  });

  it('loads the module once, from its real file, through the link without the extension', async () => {
    const link = join(BUILD, 'echo');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('echo.js');
    expect(JSON.parse(readFileSync(join(BUILD, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const first = JSON.parse((await echo('/echo')).text) as Echo;
    const second = JSON.parse((await echo('/echo')).text) as Echo;
    expect(first.file).toBe(join(BUILD, 'echo.js'));
    // One module instance: its counter goes on from one request to the next.
    expect(second.calls).toBe(first.calls + 1);
  });

  it('still cuts a function off at its timeout, and prints that and unhandled errors', async () => {
    // serverless-offline answers an HTTP API (payload 2.0) function that fails, by timeout or by an
    // exception, with 200 and {errorMessage, errorType, stackTrace}; API Gateway answers 500
    // `{"message":"Internal Server Error"}`. This service's handlers map every error themselves
    // (lib/http/handler.ts) and answer before their timeout (lib/db/statement-deadline.ts), so a
    // client of `npm run dev` meets this only with a bug. What counts here: the answer comes at the
    // timeout, not when the handler would have finished.
    const started = Date.now();
    const slow = await echo('/echo?sleep_ms=3000');
    const ms = Date.now() - started;
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.text)).toMatchObject({
      errorMessage: '[504] - Lambda timeout.',
      errorType: 'LambdaTimeoutError',
    });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2_900);

    const thrown = await echo('/echo?throw=1');
    expect(JSON.parse(thrown.text)).toMatchObject({ errorMessage: 'thrown on purpose', errorType: 'Error' });
    // Its warnings and errors still print; the per-request notice lines do not.
    await new Promise((r) => setTimeout(r, 200));
    const out = fixture?.output() ?? '';
    expect(out).toContain('[504] - Lambda timeout.');
    expect(out).toContain("Unhandled exception in handler 'echo'");
    expect(out).toContain('thrown on purpose');
    expect(out).not.toMatch(/\(λ: echo\)/);
    expect(out).not.toContain('RequestId:');

    // And the same process goes on serving.
    expect((await echo('/echo')).status).toBe(200);
  });
});

describe('this service behind npm run dev settings, logs and metrics on', () => {
  let api: Offline | undefined;

  beforeAll(async () => {
    api = await startOffline({
      databaseUrl: inject('databaseUrl'),
      flags: devOfflineFlags({}),
      env: { LOG_LEVEL: 'info', METRICS_ENABLED: 'true' },
    });
  }, 240_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('prints one JSON line per request from the handler and none from serverless-offline; modules stay loaded', async () => {
    if (!api) throw new Error('serverless-offline did not start');
    const paths = ['/products', '/products', '/health', '/products?per_page=1', '/health'];
    const ids: string[] = [];
    for (const path of paths) {
      const res = await fetch(`${api.baseUrl}${path}`);
      await res.text();
      expect(res.status, path).toBe(200);
      ids.push(res.headers.get('x-request-id') ?? '');
    }
    await new Promise((r) => setTimeout(r, 200));
    const lines = api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"message":"request"'))
      .map((l) => JSON.parse(l) as { route: string; status: number; cold_start: boolean; function_name: string });
    expect(lines.map((l) => [l.route, l.status])).toEqual([
      ['GET /products', 200],
      ['GET /products', 200],
      ['GET /health', 200],
      ['GET /products', 200],
      ['GET /health', 200],
    ]);
    // Each function's first request is its cold start; the module (and its pool) serve the rest.
    expect(lines.map((l) => l.cold_start)).toEqual([true, false, true, false, false]);
    // The metrics still go out: one EMF document per request.
    expect(api.output().match(/"_aws":\{/g)?.length).toBe(paths.length);
    expect(new Set(ids).size).toBe(paths.length);
    expect(api.output()).not.toMatch(/\(λ: \w+\)/);
  });
});
