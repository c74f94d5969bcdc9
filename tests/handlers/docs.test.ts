import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { handler as docsAsset } from '../../functions/system/docs-asset';
import { handler as docs } from '../../functions/system/docs';
import { handler as notFound } from '../../functions/system/not-found';
import { DEV_ADMIN_API_KEY } from '../../lib/config';
import { DOCS_ASSET_FILES } from '../../lib/system/docs-page';
import { invoke } from '../../scripts/lib/lambda';

const asset = (file: string, headers: Record<string, string> = {}) =>
  invoke(docsAsset, { path: `/docs/${file}`, route: '/docs/{file}', pathParameters: { file }, headers });

describe('GET /docs', () => {
  it('is a UTF-8 HTML page whose every script and style is served by this service', async () => {
    const res = await invoke(docs, { path: '/docs' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.text ?? '';
    expect(html).toContain('<meta charset="utf-8">');
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) expect(url).toMatch(/^(\/docs\/[\w.-]+|data:.*)$/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain(DEV_ADMIN_API_KEY);
  });

  it('tells the browser to load nothing from another host', async () => {
    const res = await invoke(docs, { path: '/docs' });
    const csp = res.headers['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
  });
});

describe('GET /docs/{file}', () => {
  it('serves each asset the page names, the Swagger UI files exactly as installed', async () => {
    for (const file of DOCS_ASSET_FILES) {
      const res = await asset(file);
      expect(res.status, file).toBe(200);
      expect(res.headers['content-type'], file).toMatch(/^text\/(css|javascript); charset=utf-8$/);
      expect(res.headers.etag, file).toMatch(/^"[\w-]+"$/);
    }
    const installed = readFileSync(join(__dirname, '../../node_modules/swagger-ui-dist/swagger-ui.css'), 'utf8');
    expect((await asset('swagger-ui.css')).text === installed).toBe(true);
  });

  it('sends gzip to clients that accept it, and 304 for a matching If-None-Match', async () => {
    const plain = await asset('swagger-ui-bundle.js');
    const gz = await asset('swagger-ui-bundle.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(Buffer.from(gz.text ?? '', 'base64')).toString('utf8') === plain.text).toBe(true);
    expect((await asset('swagger-ui-bundle.js', { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBe(
      undefined,
    );

    const cached = await asset('swagger-ui-bundle.js', { 'if-none-match': plain.headers.etag ?? '' });
    expect(cached.status).toBe(304);
    expect(cached.text ?? '').toBe('');
  });

  it('answers 404 route_not_found for any other file name', async () => {
    for (const file of ['index.html', '..%2Fpackage.json', 'swagger-ui-bundle.js.map', '__proto__']) {
      const res = await asset(file);
      expect(res.status, file).toBe(404);
      expect(res.body).toMatchObject({ code: 'route_not_found' });
    }
  });

  it('is GET-only', async () => {
    const res = await invoke(notFound, { method: 'DELETE', path: '/docs/swagger-ui.css', route: '$default' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
  });
});
