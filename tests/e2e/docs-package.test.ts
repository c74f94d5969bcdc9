import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes';
import { apiEvent, lambdaContext } from '../../scripts/lib/lambda';
import { readZip } from '../../scripts/lib/zip';

/**
 * The Lambda bundles `osls package` produces (what would be deployed) serve the docs page, its
 * assets and the document by themselves: the Swagger UI files are inside the zip, byte for byte.
 */
const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'shop-api-package-'));
const swaggerFile = (name: string) => readFileSync(join(root, 'node_modules', 'swagger-ui-dist', name), 'utf8');

type BundledHandler = (
  event: unknown,
  context: unknown,
) => Promise<{ statusCode: number; headers: Record<string, string>; body?: string; isBase64Encoded?: boolean }>;

/** Extracts the handler file from a function's zip and loads it, as Lambda would. */
async function bundled(functionName: string, file: string): Promise<BundledHandler> {
  const files = readZip(join(dir, `${functionName}.zip`));
  const entry = files.get(file);
  if (!entry) throw new Error(`${functionName}.zip has no ${file}: ${[...files.keys()].join(', ')}`);
  const target = join(dir, `${functionName}.js`);
  writeFileSync(target, entry);
  return (createRequire(target)(target) as { handler: BundledHandler }).handler;
}

beforeAll(() => {
  const run = spawnSync(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'dev', '--package', dir], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`osls package failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
}, 320_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the packaged docs functions', () => {
  it('serve the Swagger UI assets from inside the bundle, identical to the installed package', async () => {
    const handler = await bundled('docsAsset', 'functions/system/docs-asset.js');
    const event = (file: string, headers: Record<string, string> = {}) =>
      apiEvent({ path: `/docs/${file}`, route: '/docs/{file}', pathParameters: { file }, headers });

    const js = await handler(event('swagger-ui-bundle.js'), lambdaContext('docsAsset'));
    expect(js.statusCode).toBe(200);
    expect(js.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(js.body === swaggerFile('swagger-ui-bundle.js')).toBe(true);

    const css = await handler(event('swagger-ui.css', { 'accept-encoding': 'gzip' }), lambdaContext('docsAsset'));
    expect(css.isBase64Encoded).toBe(true);
    expect(css.headers['Content-Encoding']).toBe('gzip');
    const unzipped = gunzipSync(Buffer.from(css.body ?? '', 'base64')).toString('utf8');
    expect(unzipped === swaggerFile('swagger-ui.css')).toBe(true);
  });

  it('serve the page and the document', async () => {
    const docs = await bundled('docs', 'functions/system/docs.js');
    const page = await docs(apiEvent({ path: '/docs' }), lambdaContext('docs'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('/docs/swagger-ui-bundle.js');

    const openapi = await bundled('openapi', 'functions/system/openapi.js');
    const res = await openapi(apiEvent({ path: '/openapi.json' }), lambdaContext('openapi'));
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body ?? '{}') as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(operations).toBe(ROUTES.length);
  });
});
