import { afterAll, describe, expect, it } from 'vitest';
import { handler as health } from '../../functions/system/health';
import { handler as notFound } from '../../functions/system/not-found';
import { closeDb } from '../../lib/db/client';
import { invoke } from '../../scripts/lib/lambda';

afterAll(async () => {
  await closeDb();
});

describe('GET /health', () => {
  it('says ok when the database answers', async () => {
    const res = await invoke(health, { path: '/health' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok' });
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('catch-all route', () => {
  it('answers 404 route_not_found as problem+json with the request id', async () => {
    const res = await invoke(notFound, { path: '/nowhere', method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'https://errors.shop.example/route-not-found',
      title: 'Route not found',
      status: 404,
      code: 'route_not_found',
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await invoke(notFound, { path: '/products/12', method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, PATCH, DELETE');
    expect(res.body.code).toBe('method_not_allowed');
  });

  it('answers 404, not 405, for a known path with a trailing slash', async () => {
    const res = await invoke(notFound, { path: '/docs/', method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('route_not_found');
  });
});
