/**
 * Bundling side by side in one checkout: while serverless-offline serves (as `npm run dev` does),
 * two `osls package` runs (as `npm run package`, a packaging test or the benchmark would) build in
 * the same folder. Every route must keep answering from its own bundles, never with
 * serverless-offline's error page (HTTP 200 `{"errorMessage": "Error: Cannot find module …"}`), and
 * both packages must come out whole. A handler that cannot load stops serverless-offline at start.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Offline, startOffline } from '../../scripts/lib/offline';

const ROOT = join(__dirname, '..', '..');
const OSLS = join(ROOT, 'node_modules', '.bin', 'osls');
const work = mkdtempSync(join(tmpdir(), 'shop-api-side-by-side-'));
let offline: Offline | undefined;

beforeAll(async () => {
  offline = await startOffline({ databaseUrl: inject('databaseUrl') });
}, 180_000);

afterAll(async () => {
  await offline?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every GET route once, with what it must answer. */
const GETS: Array<[string, number[]]> = [
  ['/health', [200]],
  ['/products', [200]],
  ['/products/999999999', [404]],
  ['/orders/999999999', [404]],
  ['/openapi.json', [200]],
  ['/docs', [200]],
  ['/docs/swagger-ui.css', [200]],
  ['/no-such-route', [404]],
];

async function everyRoute(base: string): Promise<string[]> {
  const wrong: string[] = [];
  for (const [path, statuses] of GETS) {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    if (!statuses.includes(res.status) || text.includes('errorMessage')) {
      wrong.push(`${path}: ${res.status} ${text.slice(0, 200)}`);
    }
  }
  return wrong;
}

describe('bundling side by side in one checkout', () => {
  it('keeps a running serverless-offline answering on every route while two packages build', async () => {
    if (!offline) throw new Error('serverless-offline did not start');
    // Some functions served (their bundles loaded) before, the others loaded only afterwards.
    expect((await fetch(`${offline.baseUrl}/health`)).status).toBe(200);

    const outs = ['a', 'b'].map((n) => join(work, n));
    await Promise.all(
      outs.map((out) =>
        promisify(execFile)(OSLS, ['package', '--stage', 'dev', '--package', out], {
          cwd: ROOT,
          env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
          maxBuffer: 16 * 1024 * 1024,
          timeout: 280_000,
        }),
      ),
    );

    expect(await everyRoute(offline.baseUrl)).toEqual([]);
    expect(offline.output()).not.toContain('Cannot find module');
    for (const out of outs) {
      const zips = readdirSync(out).filter((f) => f.endsWith('.zip'));
      expect(zips.length, out).toBeGreaterThanOrEqual(15);
      expect(existsSync(join(out, 'cloudformation-template-update-stack.json'))).toBe(true);
    }
    // Each package removed its own build folder; only the running serverless-offline's is left.
    const left = existsSync(join(ROOT, '.esbuild')) ? readdirSync(join(ROOT, '.esbuild')) : [];
    expect(left.length).toBeLessThanOrEqual(1);
  }, 400_000);
});

describe('a handler that cannot load', () => {
  it('stops serverless-offline at start, naming the function, instead of a 200 error page per request', () => {
    const BuildFolders = require('../../deploy/build-folders.js') as new (
      sls: unknown,
    ) => { hooks: Record<string, () => void> };
    const location = join(work, 'build');
    mkdirSync(join(location, 'functions'), { recursive: true });
    writeFileSync(join(location, 'functions', 'ok.js'), 'exports.handler = async () => ({ statusCode: 200 });');
    writeFileSync(join(location, 'functions', 'broken.js'), "require('./bundle-that-is-gone');");
    const functions: Record<string, { handler: string }> = {
      ok: { handler: 'functions/ok.handler' },
      broken: { handler: 'functions/broken.handler' },
      missing: { handler: 'functions/missing.handler' },
    };
    const sls = {
      serviceDir: work,
      config: { servicePath: work },
      classes: { Error },
      service: {
        custom: { 'serverless-offline': { location: 'build' } },
        provider: { environment: {} },
        getAllFunctions: () => Object.keys(functions),
        getFunction: (name: string) => functions[name],
      },
    };
    const start = () => new BuildFolders(sls).hooks['before:offline:start:init']?.();
    expect(start).toThrow(
      /Refusing to serve: handlers that cannot load:\nbroken: Cannot find module '\.\/bundle-that-is-gone'[\s\S]*\nmissing: Cannot find module/,
    );
    delete functions.broken;
    delete functions.missing;
    expect(start).not.toThrow();
  });
});
