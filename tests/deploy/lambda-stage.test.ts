/**
 * What `osls package` builds, run as Lambda runs it. First a stage that is not prod, deployed: `osls package --stage staging` run from a shell that has a
 * DATABASE_URL with a password and an ADMIN_API_KEY exported, then a function unpacked from its zip
 * and started as AWS Lambda would start it. Neither shell value may reach the template, and on
 * Lambda the development admin key must never work, whatever the stage is called. Then the source
 * maps shipped beside each bundle: an unexpected 500 logs a stack that names the TypeScript files.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_ADMIN_API_KEY } from '../../lib/config';
import { apiEvent } from '../../scripts/lib/lambda';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';
import { readZip } from '../../scripts/lib/zip';
import { functionOf, lambdaRuntimeEnv, type Packaged, packageStage, runPackaged } from '../support/packaged';

const SHELL_PASSWORD = 'shell-password-4f1e9';
const SHELL_HOST = 'db.deploying-shell.example';
const SHELL_ADMIN_KEY = 'shell-admin-key-9c2b7d1e5a0f3c8b6d4e';
const REAL_KEY = 'a-real-admin-key-for-this-test-0123456789';

let pkg: Packaged;
/** A database without tables: every query fails in a way no handler expects (a 500). */
const serverUrl = serverUrlOf(inject('databaseUrl'));
const emptyDb = `shop_test_${Date.now()}_notables_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  pkg = await packageStage('staging', {
    DATABASE_URL: `mysql://deployer:${SHELL_PASSWORD}@${SHELL_HOST}:3306/shop`,
    DATABASE_READ_URL: `mysql://deployer:${SHELL_PASSWORD}@${SHELL_HOST}:3307/shop`,
    ADMIN_API_KEY: SHELL_ADMIN_KEY,
  });
}, 300_000);

afterAll(async () => {
  if (pkg) await rm(pkg.dir, { recursive: true, force: true });
  await dropDatabase(serverUrl, emptyDb);
});

const createProduct = (authorization: string) =>
  apiEvent({
    method: 'POST',
    path: '/products',
    json: { name: `lambda-stage-${Date.now()}`, price: 3.5, stock: 1 },
    headers: { authorization },
  });

/** createProduct's own variables from the template, on Lambda, with `overrides`. */
const onLambda = (overrides: Record<string, string>) => {
  const fn = functionOf(pkg, 'createProduct');
  return { ...fn.env, ...lambdaRuntimeEnv(fn.functionName, pkg.dir), ...overrides };
};

describe('osls package --stage staging', () => {
  it('copies nothing from the deploying shell into the template: no database URL, password or admin key', () => {
    expect(pkg.templateText).not.toContain(SHELL_PASSWORD);
    expect(pkg.templateText).not.toContain(SHELL_HOST);
    expect(pkg.templateText).not.toContain(SHELL_ADMIN_KEY);
    expect(pkg.templateText).not.toContain(DEV_ADMIN_API_KEY);
    // Nor in the service state osls uploads beside the template on deploy.
    const state = readFileSync(join(pkg.dir, 'serverless-state.json'), 'utf8');
    for (const value of [SHELL_PASSWORD, SHELL_HOST, SHELL_ADMIN_KEY]) expect(state).not.toContain(value);
    const fn = functionOf(pkg, 'createProduct');
    expect(fn.env.STAGE).toBe('staging');
    expect(fn.env.ADMIN_API_KEY).toBe('');
    expect(fn.env.DATABASE_URL).toBe('');
  });
});

describe('a packaged function on AWS Lambda (stage staging)', () => {
  it('refuses to start with the template as packaged: no admin key', async () => {
    const run = await runPackaged(pkg, 'createProduct', createProduct(`Bearer ${DEV_ADMIN_API_KEY}`), onLambda({}));
    expect(run.started, run.output).toBe(false);
    expect(run.startError).toMatch(/ADMIN_API_KEY: required on AWS Lambda/);
  });

  it('refuses to start with the development key, or a short one, even with a database to use', async () => {
    const db = { DATABASE_URL: inject('databaseUrl') };
    for (const key of [DEV_ADMIN_API_KEY, 'short-key', `${REAL_KEY},${DEV_ADMIN_API_KEY}`]) {
      const run = await runPackaged(
        pkg,
        'createProduct',
        createProduct(`Bearer ${key}`),
        onLambda({ ...db, ADMIN_API_KEY: key }),
      );
      expect(run.started, `${key}: ${run.output}`).toBe(false);
      expect(run.startError).toMatch(/ADMIN_API_KEY: on AWS Lambda every key must be at least 24 characters/);
    }
  });

  it('refuses to start with a password in DATABASE_URL (it belongs in DB_SECRET_ARN)', async () => {
    const env = onLambda({
      ADMIN_API_KEY: REAL_KEY,
      DATABASE_URL: `mysql://app:${SHELL_PASSWORD}@127.0.0.1:3306/shop`,
    });
    const run = await runPackaged(pkg, 'createProduct', createProduct(`Bearer ${REAL_KEY}`), env);
    expect(run.started, run.output).toBe(false);
    expect(run.startError).toMatch(/DATABASE_URL: no password on AWS Lambda/);
  });

  it('with a real key: serves admin requests with it and refuses the development key (401)', async () => {
    const env = onLambda({ ADMIN_API_KEY: REAL_KEY, DATABASE_URL: inject('databaseUrl') });
    const dev = await runPackaged(pkg, 'createProduct', createProduct(`Bearer ${DEV_ADMIN_API_KEY}`), env);
    expect(dev.result?.statusCode, dev.output).toBe(401);
    const real = await runPackaged(pkg, 'createProduct', createProduct(`Bearer ${REAL_KEY}`), env);
    expect(real.result?.statusCode, real.output).toBe(201);
  });

  it('is local under serverless-offline (IS_OFFLINE): there the development key still works', async () => {
    const env = onLambda({ IS_OFFLINE: 'true', DATABASE_URL: inject('databaseUrl') });
    const run = await runPackaged(pkg, 'createProduct', createProduct(`Bearer ${DEV_ADMIN_API_KEY}`), env);
    expect(run.result?.statusCode, run.output).toBe(201);
  });
});

describe('source maps in the packaged bundles', () => {
  it('ship beside each bundle, linked, without the sources, and every zip stays within 1 MB', () => {
    const fn = functionOf(pkg, 'getProduct');
    const bundle = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.js`;
    const files = readZip(join(pkg.dir, 'getProduct.zip'));
    expect([...files.keys()].sort()).toEqual([bundle, `${bundle}.map`]);
    expect(files.get(bundle)?.toString('utf8')).toMatch(/\/\/# sourceMappingURL=get-product\.js\.map\s*$/);
    const map = JSON.parse(files.get(`${bundle}.map`)?.toString('utf8') ?? '{}') as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((f) => f.endsWith('/functions/products/get-product.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
    expect(fn.env.NODE_OPTIONS).toContain('--enable-source-maps');
    for (const zip of Object.keys(pkg.template.Resources).filter((id) => id.endsWith('LambdaFunction'))) {
      const name = String(pkg.template.Resources[zip]?.Properties.FunctionName).replace(/^shop-api-staging-/, '');
      expect(statSync(join(pkg.dir, `${name}.zip`)).size, name).toBeLessThanOrEqual(1024 * 1024);
    }
  });

  it('make the stack of an unexpected 500, as logged, name the lib/ and functions/ files', async () => {
    await createDatabase(serverUrl, emptyDb);
    const env = onLambda({
      ADMIN_API_KEY: REAL_KEY,
      DATABASE_URL: withDatabase(serverUrl, emptyDb),
      LOG_LEVEL: 'error',
    });
    const event = apiEvent({ path: '/products', route: '/products' });
    const run = await runPackaged(pkg, 'listProducts', event, env);
    expect(run.result?.statusCode, run.output).toBe(500);
    const logged = run.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { error?: { stack?: string } })
      .find((l) => l.error?.stack);
    const stack = logged?.error?.stack ?? '';
    expect(stack, run.output).toMatch(/\((?:[^()]*\/)?(lib|functions)\/[\w/.-]+\.ts:\d+:\d+\)/);
    expect(stack).not.toMatch(/list-products\.js:\d+:\d+/);
    console.log(
      `[source maps] logged stack of a 500 from the packaged listProducts:\n${stack
        .split('\n')
        .filter((l) => /\((lib|functions)\/|\/(lib|functions)\//.test(l))
        .slice(0, 6)
        .join('\n')}`,
    );
  });
});
