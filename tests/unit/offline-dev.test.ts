/**
 * deploy/offline-dev.js on its own: which files it adds beside the bundles (and where it never
 * does), and what it switches off in serverless-offline's log writer. Over real HTTP:
 * tests/e2e/offline-settings.e2e.test.ts.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

type Hooks = Record<string, () => void>;
const OfflineDev = require('../../deploy/offline-dev.js') as new (sls: unknown) => { hooks: Hooks };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A service folder with bundles under `location`, and a fake `serverless` for the plugin. */
function service(location: string, handlers: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'offline-dev-'));
  dirs.push(dir);
  for (const handler of Object.values(handlers)) {
    const file = join(dir, location, `${handler.slice(0, handler.lastIndexOf('.'))}.js`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'exports.handler = async () => ({ statusCode: 200 });');
  }
  const sls = {
    serviceDir: dir,
    config: { servicePath: dir },
    service: {
      custom: { 'serverless-offline': { location } },
      getAllFunctions: () => Object.keys(handlers),
      getFunction: (name: string) => ({ handler: handlers[name] }),
    },
  };
  return { dir, hooks: new OfflineDev(sls).hooks };
}

describe('the files beside each bundle', () => {
  it.skipIf(process.platform === 'win32')(
    'adds a CommonJS package.json and a link without the extension to the real bundle, once',
    () => {
      const { dir, hooks } = service('.esbuild/abc', {
        listProducts: '.build/functions/products/list-products.handler',
        getProduct: '.build/functions/products/get-product.handler',
        health: '.build/functions/system/health.handler',
      });
      hooks['before:offline:start:init']?.();
      hooks['before:offline:start']?.();
      const products = join(dir, '.esbuild/abc/.build/functions/products');
      expect(JSON.parse(readFileSync(join(products, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
      for (const name of ['list-products', 'get-product']) {
        expect(lstatSync(join(products, name)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(products, name))).toBe(`${name}.js`);
      }
      expect(lstatSync(join(dir, '.esbuild/abc/.build/functions/system/health')).isSymbolicLink()).toBe(true);
      // The link reaches the same module: require resolves it to the bundle's real path.
      const viaLink = require.resolve(join(products, 'list-products'));
      expect(viaLink).toBe(join(products, 'list-products.js'));
    },
  );

  it('never writes outside a build folder of its own, nor for a bundle that is not there', () => {
    const { dir, hooks } = service('dist', { listProducts: 'functions/list-products.handler' });
    hooks['before:offline:start:init']?.();
    expect(existsSync(join(dir, 'dist/functions/package.json'))).toBe(false);
    expect(existsSync(join(dir, 'dist/functions/list-products'))).toBe(false);

    const missing = service('.esbuild/abc', {});
    const sls = {
      serviceDir: missing.dir,
      config: { servicePath: missing.dir },
      service: {
        custom: { 'serverless-offline': { location: '.esbuild/abc' } },
        getAllFunctions: () => ['gone'],
        getFunction: () => ({ handler: 'functions/gone.handler' }),
      },
    };
    new OfflineDev(sls).hooks['before:offline:start:init']?.();
    expect(existsSync(join(missing.dir, '.esbuild'))).toBe(false);
  });
});

describe("serverless-offline's log writer once serving", () => {
  it('does nothing for notice and switched-off debug calls; warnings and errors stay', () => {
    const { getPluginWriters } = require('osls/lib/utils/serverless-utils/log');
    const writer = getPluginWriters('serverless-offline').log;
    const before = { warning: writer.warning, error: writer.error };
    const debugOn = writer.debug.isEnabled;
    service('.esbuild/abc', {}).hooks['after:offline:start:init']?.();
    expect(writer.isEnabled).toBe(false);
    expect(Object.hasOwn(writer, 'notice')).toBe(true);
    expect(writer.notice('GET /products (λ: listProducts)')).toBeUndefined();
    expect(Object.hasOwn(writer, 'debug')).toBe(!debugOn);
    expect(writer.warning).toBe(before.warning);
    expect(writer.error).toBe(before.error);
    expect(writer.error.isEnabled).not.toBe(false);
  });
});
