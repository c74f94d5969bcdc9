import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../lib/errors';
import { endpoint } from '../../lib/http/handler';
import { MAX_BODY_BYTES } from '../../lib/http/json-body';
import { json } from '../../lib/http/response';
import { apiEvent, invoke, lambdaContext } from '../../scripts/lib/lambda';

const body = z.object({ name: z.string().min(1), qty: z.number().int().min(1) }).strict();
const echo = endpoint({ functionName: 'test', body, admin: true }, async ({ body }) => json(201, body));
const open = endpoint({ functionName: 'test', body }, async ({ body }) => json(200, body));
const boom = endpoint({ functionName: 'test' }, async () => {
  throw Object.assign(new Error("ER_PARSE_ERROR near 'SELECT secret FROM users'"), { errno: 1064 });
});
const lostDb = endpoint({ functionName: 'test' }, async () => {
  throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:3306'), { code: 'ECONNREFUSED' });
});
const deadlock = endpoint({ functionName: 'test' }, async () => {
  throw Object.assign(new Error('Deadlock found'), { errno: 1213 });
});

describe('the middy chain', () => {
  it('accepts a valid JSON body and answers with X-Request-Id', async () => {
    const res = await invoke(open, { method: 'POST', path: '/x', json: { name: 'a', qty: 2 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'a', qty: 2 });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects a non-JSON content type with 415', async () => {
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: 'name=a',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('unsupported_media_type');
  });

  it('rejects a missing content type with 415', async () => {
    const res = await invoke(open, { method: 'POST', path: '/x', rawBody: '{"name":"a","qty":1}' });
    expect(res.status).toBe(415);
  });

  it('rejects invalid JSON with 400 malformed_json', async () => {
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.code).toBe('malformed_json');
  });

  it('rejects an empty JSON body with 400 malformed_json', async () => {
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_json');
  });

  it('decodes a base64-encoded body', async () => {
    const raw = Buffer.from('{"name":"Café ☕","qty":1}').toString('base64');
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: raw,
      isBase64Encoded: true,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Café ☕');
  });

  it('rejects a base64 body that is not valid UTF-8 with 400 malformed_json, but a wrong media type first with 415', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('","qty":1}')]);
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: bytes.toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_json');
    const text = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: bytes.toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  it('rejects a body over 64 KiB with 413, and one at the limit is parsed', async () => {
    const over = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES), qty: 1 });
    const res = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: over,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    const exact = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES - 20), qty: 1 });
    expect(Buffer.byteLength(exact)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const ok = await invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: exact,
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(200);
  });

  it('lists every validation problem at once, unknown fields included', async () => {
    const res = await invoke(open, { method: 'POST', path: '/x', json: { name: '', qty: 0.5, id: 3, stock: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(['id', 'name', 'qty', 'stock']);
  });

  it('checks the admin key before the body: no key gives 401 even for a bad body', async () => {
    const res = await invoke(echo, {
      method: 'POST',
      path: '/x',
      rawBody: 'not json',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('rejects a wrong admin key and a non-Bearer scheme', async () => {
    for (const authorization of ['Bearer wrong', 'Basic ZGV2OmtleQ==', 'Bearer ', 'dev-admin-key-change-me']) {
      const res = await invoke(echo, {
        method: 'POST',
        path: '/x',
        json: { name: 'a', qty: 1 },
        headers: { authorization },
      });
      expect(res.status, authorization).toBe(401);
    }
  });

  it('accepts the admin key', async () => {
    const res = await invoke(echo, { method: 'POST', path: '/x', json: { name: 'a', qty: 1 }, admin: true });
    expect(res.status).toBe(201);
  });

  it('never leaks SQL or driver text in a 500', async () => {
    const res = await invoke(boom, { path: '/x' });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal_error');
    expect(res.text).not.toMatch(/SELECT|ER_|secret|stack/i);
  });

  it('maps a refused connection to 503 database_unavailable with Retry-After, without the address', async () => {
    const res = await invoke(lostDb, { path: '/x' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('database_unavailable');
    expect(res.headers['retry-after']).toBeTruthy();
    expect(res.text).not.toContain('10.0.0.1');
  });

  it('maps an unretried deadlock to 503 busy', async () => {
    const res = await invoke(deadlock, { path: '/x' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('busy');
  });

  it('gives domain errors their catalogue status and stable code', async () => {
    const h = endpoint({ functionName: 'test' }, async () => {
      throw new AppError('product_not_found', 'Product 9 does not exist');
    });
    const res = await invoke(h, { path: '/x' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      code: 'product_not_found',
      title: 'Product not found',
      detail: 'Product 9 does not exist',
    });
  });
});

/**
 * Bodies exactly as the gateways hand them over: serverless-offline sends `body: null` for an empty
 * body, API Gateway leaves `body` out, a binary body arrives base64-encoded. None of them is a 5xx.
 */
describe('request bodies as serverless-offline and API Gateway send them', () => {
  const post = (o: { rawBody?: string | null; isBase64Encoded?: boolean; contentType?: string }) =>
    invoke(open, {
      method: 'POST',
      path: '/x',
      ...('rawBody' in o ? { rawBody: o.rawBody } : {}),
      ...(o.isBase64Encoded ? { isBase64Encoded: true } : {}),
      headers: o.contentType === undefined ? {} : { 'content-type': o.contentType },
    });
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it.each([
    ['body: null (serverless-offline)', { rawBody: null }],
    ['no body member (API Gateway)', {}],
    ['body: ""', { rawBody: '' }],
    ['body: "" base64', { rawBody: '', isBase64Encoded: true }],
    ['body: null base64', { rawBody: null, isBase64Encoded: true }],
    ['whitespace only', { rawBody: ' \r\n\t' }],
    ['whitespace only, base64', { rawBody: b64('  \n'), isBase64Encoded: true }],
  ])('an empty body (%s) with Content-Type application/json is 400 malformed_json', async (_name, shape) => {
    const res = await post({ ...shape, contentType: 'application/json' });
    expect(res.status, res.text).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.code).toBe('malformed_json');
  });

  it.each([
    ['body: null', { rawBody: null }],
    ['no body member', {}],
  ])(
    'an empty body (%s) without any Content-Type is 400 malformed_json too: nothing was sent to be of a wrong type',
    async (_name, shape) => {
      const res = await post(shape);
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('malformed_json');
    },
  );

  it('an empty body declared as another media type is 415', async () => {
    const res = await post({ rawBody: null, contentType: 'text/plain' });
    expect(res.status).toBe(415);
  });

  it.each(['null', '[]', '"x"', '1', '0', 'true', 'false', '-0', '[{"name":"a","qty":1}]', ' null '])(
    'valid JSON that is not an object (%s) is 400 validation_failed, as text and as base64',
    async (text) => {
      for (const shape of [{ rawBody: text }, { rawBody: b64(text), isBase64Encoded: true }]) {
        const res = await post({ ...shape, contentType: 'application/json' });
        expect(res.status, `${JSON.stringify(shape)}: ${res.text}`).toBe(400);
        expect(res.body.code).toBe('validation_failed');
        expect(res.body.errors).toEqual([{ path: '', message: expect.stringMatching(/object/) }]);
      }
    },
  );
});

/** Media types and parameter names are case-insensitive, with optional whitespace around `;` (RFC 9110 §8.3). */
describe('Content-Type matching', () => {
  const send = (contentType: string) =>
    invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: '{"name":"a","qty":1}',
      headers: { 'content-type': contentType },
    });

  it.each([
    'application/json',
    'Application/JSON',
    'APPLICATION/JSON',
    'application/json;charset=utf-8',
    'Application/JSON ; charset=UTF-8',
    'application/json ;charset=utf-8',
    'application/json;\tCharset="UTF-8"',
    'application/json; CHARSET=Utf-8',
    ' application/json ',
    'application/json; foo=bar',
  ])('accepts %j', async (contentType) => {
    const res = await send(contentType);
    expect(res.status, res.text).toBe(200);
  });

  it.each([
    'application/jsonx',
    'application/json-patch',
    'text/json',
    'json',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset=iso-8859-1',
    'application/problem+json',
    'application/merge-patch+json',
    'application/json, text/plain',
    'application/json,application/json',
    'application/json\u0000',
    'application/ json',
    'application /json',
    '*/*',
    '',
    'text/plain; charset=utf-8',
  ])('refuses %j with 415', async (contentType) => {
    const res = await send(contentType);
    expect(res.status, res.text).toBe(415);
    expect(res.body.code).toBe('unsupported_media_type');
  });
});

describe('bodies serverless-offline has already parsed', () => {
  // serverless-offline JSON-parses a body itself and passes a falsy result on as the value.
  it.each([0, false])(
    'a body that arrives as the value %j is judged as its JSON text (400 validation_failed)',
    async (value) => {
      const event = apiEvent({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' } });
      (event as { body?: unknown }).body = value;
      const res = await open(event, lambdaContext());
      expect(typeof res === 'object' && res.statusCode).toBe(400);
      expect(typeof res === 'object' && JSON.parse(String(res.body)).code).toBe('validation_failed');
    },
  );
});

describe('the JSON parser', () => {
  const post = (text: string, o: { base64?: boolean } = {}) =>
    invoke(open, {
      method: 'POST',
      path: '/x',
      rawBody: o.base64 ? Buffer.from(text).toString('base64') : text,
      ...(o.base64 ? { isBase64Encoded: true } : {}),
      headers: { 'content-type': 'application/json' },
    });

  it.each([
    '{"name":"a","qty":1,}',
    "{'name':'a','qty':1}",
    '{"name":"a" "qty":1}',
    '{"name":"a\u0001","qty":1}',
    '{"name":"\\x41","qty":1}',
    '{"name":"a","qty":01}',
    '{"name":"a","qty":+1}',
    '{"name":"a","qty":1.}',
    '{"name":"a","qty":.5}',
    '{"name":"a","qty":NaN}',
    '{"name":"a","qty":Infinity}',
    '{"name":"a","qty":1} x',
    '{"name":"a","qty":1}{}',
    '\u00a0{"name":"a","qty":1}',
    '[1,]',
    '{"name":"a","qty":1', // truncated
    '\ufeff\ufeff{"name":"a","qty":1}',
  ])('rejects %j as JSON.parse does: 400 malformed_json', async (text) => {
    const res = await post(text);
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('malformed_json');
  });

  it.each([
    ['arrays 10,000 deep', '['.repeat(10_000) + ']'.repeat(10_000)],
    ['arrays 32,000 deep (as deep as 64 KiB goes)', '['.repeat(32_000) + ']'.repeat(32_000)],
    ['objects 10,000 deep', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
    ['arrays 10,000 deep, never closed', '['.repeat(10_000)],
    ['a field nested 5,000 deep', `{"name":${'['.repeat(5_000)}${']'.repeat(5_000)},"qty":1}`],
  ])('%s: a 400, not a stack overflow', async (_name, text) => {
    const res = await post(text);
    expect(res.status, res.text).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
  });

  it('brackets inside strings are not nesting: a long name full of them parses', async () => {
    const res = await post(JSON.stringify({ name: '[{'.repeat(5_000), qty: 1 }));
    expect(res.status, res.text).toBe(200);
  });

  it('a key repeated with a different value is 400 malformed_json (which one would count?); the same value twice is fine', async () => {
    const twice = await post('{"name":"a","qty":1,"qty":2}');
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe('malformed_json');
    const same = await post('{"name":"a","qty":1,"qty":1}');
    expect(same.status, same.text).toBe(200);
  });

  it('a leading UTF-8 byte order mark is ignored (RFC 8259 §8.1 allows it), as text and as base64', async () => {
    for (const base64 of [false, true]) {
      const res = await post('\ufeff{"name":"a","qty":1}', { base64 });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ name: 'a', qty: 1 });
    }
  });

  it('a __proto__ key is an own field (an unknown field), never a prototype', async () => {
    const res = await post('{"name":"a","qty":1,"__proto__":{"qty":2}}');
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors).toEqual([{ path: '__proto__', message: 'Unknown field' }]);
  });

  it('-0 and 1e0 are numbers like any other (-0 is below the minimum of 1; 1e0 is 1)', async () => {
    const zero = await post('{"name":"a","qty":-0}');
    expect(zero.status).toBe(400);
    expect(zero.body.errors).toEqual([{ path: 'qty', message: expect.stringMatching(/>=\s?1/) }]);
    const one = await post('{"name":"a","qty":1e0}');
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({ name: 'a', qty: 1 });
  });
});
