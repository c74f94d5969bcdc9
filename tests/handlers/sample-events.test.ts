import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { FUNCTIONS } from '../../lib/routes';
import { lambdaContext } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';

/**
 * The sample events of events/ (for `npm run invoke` and `osls invoke local --path`) are accepted by
 * the functions they are written for, and the script itself runs one end to end.
 */
const root = join(__dirname, '..', '..');
const FOR: Record<string, string> = {
  'health.json': 'health',
  'list-products.json': 'listProducts',
  'get-product.json': 'getProduct',
  'create-product.json': 'createProduct',
  'create-order.json': 'createOrder',
  'scheduled.json': 'purgeIdempotencyKeys',
};
const event = (file: string): unknown => JSON.parse(readFileSync(join(root, 'events', file), 'utf8'));
async function handlerOf(name: string): Promise<(event: unknown, context: unknown) => Promise<any>> {
  const declaration = FUNCTIONS.find((f) => f.functionName === name);
  if (!declaration) throw new Error(`no function ${name}`);
  return (await import(join(root, `${declaration.lambda.handler}.ts`))).handler;
}

describe('sample events', () => {
  it('every file in events/ is listed here', () => {
    expect(readdirSync(join(root, 'events')).sort()).toEqual(Object.keys(FOR).sort());
  });

  it.each(Object.entries(FOR))('%s is accepted by %s', async (file, name) => {
    // The events name product 1 and create a product of a fixed name: make both hold on this run's database.
    await makeProduct({ stock: 1_000 }).catch(() => undefined);
    const result = await (await handlerOf(name))(event(file), lambdaContext(name));
    if (name === 'purgeIdempotencyKeys') expect(result).toMatchObject({ truncated: false });
    else expect([200, 201, 404, 409]).toContain(result.statusCode);
  });

  it('npm run invoke runs a function with an event file and prints its result', async () => {
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'invoke.ts'), 'health', join(root, 'events', 'health.json')],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ statusCode: 200, body: '{"status":"ok","database":"ok"}' });
  });
});
