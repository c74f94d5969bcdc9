import { fc, test } from '@fast-check/vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as getOrder } from '../../functions/orders/get-order';
import { handler as listOrders } from '../../functions/orders/list-orders';
import { handler as createProduct } from '../../functions/products/create-product';
import { handler as deleteProduct } from '../../functions/products/delete-product';
import { handler as getProduct } from '../../functions/products/get-product';
import { handler as listProducts } from '../../functions/products/list-products';
import { handler as updateProduct } from '../../functions/products/update-product';
import { handler as docs } from '../../functions/system/docs';
import { handler as docsAsset } from '../../functions/system/docs-asset';
import { handler as health } from '../../functions/system/health';
import { handler as notFound } from '../../functions/system/not-found';
import { handler as openapi } from '../../functions/system/openapi';
import { DEV_ADMIN_API_KEY } from '../../lib/config';
import { ERROR_CODES } from '../../lib/errors';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';
import { fingerprint } from '../support/fingerprint';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/*
 * Hostile input against every handler: random and malicious bodies, headers, query strings and
 * path parameters. Properties: never a 5xx; every rejection is problem+json with a catalogued code;
 * a rejected request (and any GET) changes nothing in any table. Valid requests can be generated
 * too (they may write); they are counted, not judged.
 *
 * The file runs on a database of its own, so "nothing changed" is a fingerprint of every row.
 */

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

// ------------------------------------------------------------------------------------------------
// JSON text with hostile tokens: raw numbers (1e309, -0, 40 digits), duplicate and prototype keys.

type J =
  | { t: 'raw'; raw: string }
  | { t: 'str'; v: string }
  | { t: 'arr'; items: J[] }
  | { t: 'obj'; entries: Array<[string, J]> };

const toText = (j: J): string => {
  switch (j.t) {
    case 'raw':
      return j.raw;
    case 'str':
      return JSON.stringify(j.v);
    case 'arr':
      return `[${j.items.map(toText).join(',')}]`;
    case 'obj':
      return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  }
};

const rawNumbers = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '1.005',
  '19.99',
  '19.999',
  '0.1',
  '0.01',
  '0.001',
  '2',
  '5',
  '100',
  '10000',
  '10001',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '99999999.99',
  '99999999.995',
  '100000000',
  '1000000000',
  '1000000001',
  '1e3',
  '1E2',
  '1e21',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '5e-324',
  '123456789012345678901234567890',
  '-9999999999999999999',
  '0.30000000000000004',
  '1.0',
  '2.50',
  '3.14159',
];
const hostileStrings = [
  '',
  ' ',
  '1',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '-0',
  '0x1F',
  '１２',
  '\u0000',
  '\ud800',
  'a\ud83dz',
  '\u202e',
  '🛒',
  'Café ☕ 杯子',
  '<script>alert(1)</script>',
  "'; DROP TABLE products; --",
  '%00',
  '../../etc/passwd',
  '\r\nX-Injected: 1',
  'null',
  'true',
  '{}',
  '[]',
  '__proto__',
  'constructor',
  'a'.repeat(256),
  '🛒'.repeat(300),
  'x'.repeat(2_001),
];
const hostileKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'id',
  'status',
  'total_price',
  'stock ',
  'Name',
  'PRICE',
  '',
  '\u0000',
  'products ',
  'created_at',
  'archived_at',
  'admin',
];

const rawNumber = fc.oneof(
  fc.constantFrom(...rawNumbers),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
const anyString = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);
const scalar: fc.Arbitrary<J> = fc.oneof(
  rawNumber.map((raw) => ({ t: 'raw' as const, raw })),
  fc.constantFrom('true', 'false', 'null').map((raw) => ({ t: 'raw' as const, raw })),
  anyString.map((v) => ({ t: 'str' as const, v })),
);
const { anyJson } = fc.letrec<{ anyJson: J }>((tie) => ({
  anyJson: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('anyJson'), { maxLength: 4 }).map((items) => ({ t: 'arr' as const, items })),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ maxLength: 8 })), tie('anyJson')), {
        maxLength: 4,
      })
      .map((entries) => ({ t: 'obj' as const, entries })),
  ),
}));

/** A field value: mostly valid for `valid`, else anything hostile. */
const field = (valid: fc.Arbitrary<J>): fc.Arbitrary<J> => fc.oneof({ weight: 5, arbitrary: valid }, anyJson);
const num = (...values: number[]) => fc.constantFrom(...values).map((v) => ({ t: 'raw' as const, raw: String(v) }));
const str = (a: fc.Arbitrary<string>) => a.map((v) => ({ t: 'str' as const, v }));

/** An object of some of `fields` (maybe repeated, maybe with extra hostile keys), in random order. */
function nearObject(fields: Record<string, fc.Arbitrary<J>>): fc.Arbitrary<J> {
  const names = Object.keys(fields);
  const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...hostileKeys), fc.constantFrom(...names)), anyJson), {
    minLength: 1,
    maxLength: 2,
  });
  return fc
    .tuple(
      // Each field present 5 times in 6; now and then an unknown, prototype or repeated key.
      fc.tuple(
        ...names.map((k) =>
          fc.option(
            fields[k]!.map((v): [string, J] => [k, v]),
            { freq: 6, nil: undefined },
          ),
        ),
      ),
      fc.option(extra, { freq: 5, nil: undefined }),
      fc.boolean(),
    )
    .map(([entries, more, shuffled]) => {
      const present = entries.filter((e): e is [string, J] => e !== undefined);
      const all = [...present, ...(more ?? [])];
      return { t: 'obj' as const, entries: shuffled ? all.reverse() : all };
    });
}

const productName = str(
  fc.oneof(
    fc.uuid().map((u) => `Fuzz ${u}`),
    anyString,
  ),
);
/** An id of a product made in beforeAll (chosen when the request is generated), else a hostile one. */
const knownProductId = fc
  .nat()
  .map((i) => ({ t: 'raw' as const, raw: String(productIds[i % productIds.length] ?? 1) }));

const lineFields = {
  product_id: field(fc.oneof({ weight: 4, arbitrary: knownProductId }, num(99999999, 1))),
  quantity: field(num(1, 2, 3, 10000)),
};
const repeat = (n: number, item: string) => Array.from({ length: n }, () => item).join(',');
/** Lines for distinct known products (one may be archived): a valid order, or one short of stock. */
const validLines: fc.Arbitrary<J> = fc.uniqueArray(fc.nat({ max: 4 }), { minLength: 1, maxLength: 4 }).chain((idx) =>
  fc
    .tuple(...idx.map(() => fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 3 }) }, fc.constant(10_000))))
    .map((qs) => ({
      t: 'arr' as const,
      items: idx.map((i, n) => ({
        t: 'obj' as const,
        entries: [
          ['product_id', { t: 'raw', raw: String(productIds[i] ?? 1) }],
          ['quantity', { t: 'raw', raw: String(qs[n]) }],
        ] as Array<[string, J]>,
      })),
    })),
);
const orderLines: fc.Arbitrary<J> = fc.oneof(
  { weight: 20, arbitrary: validLines },
  {
    weight: 20,
    arbitrary: fc
      .array(nearObject(lineFields), { minLength: 1, maxLength: 4 })
      .map((items) => ({ t: 'arr' as const, items })),
  },
  fc.constant<J>({ t: 'arr', items: [] }),
  // 10,000 lines: small items (under 64 KiB, so validation sees them all) and real ones (413).
  fc.constant<J>({ t: 'raw', raw: `[${repeat(10_000, '1')}]` }),
  fc.constant<J>({ t: 'raw', raw: `[${repeat(10_000, '{}')}]` }),
  fc.constant<J>({ t: 'raw', raw: `[${repeat(10_000, '{"product_id":1,"quantity":1}')}]` }),
  // 101 lines (one over the limit) and 100 lines repeating one product.
  fc.constant<J>({
    t: 'raw',
    raw: `[${Array.from({ length: 101 }, (_, i) => `{"product_id":${i + 1},"quantity":1}`).join(',')}]`,
  }),
  fc.constant<J>({ t: 'raw', raw: `[${repeat(100, '{"product_id":1,"quantity":1}')}]` }),
  // Deep nesting.
  fc.constant<J>({ t: 'raw', raw: `${'['.repeat(5_000)}${']'.repeat(5_000)}` }),
);
const orderFields = { products: field(orderLines) };

const productFields = {
  name: field(productName),
  description: field(str(fc.string({ maxLength: 30 }))),
  price: field(num(0.01, 1, 19.99, 99999999.99)),
  stock: field(num(0, 1, 1000, 1000000)),
};

// ------------------------------------------------------------------------------------------------
// Bodies, headers, query strings, path parameters.

type Body =
  | { kind: 'none' }
  // serverless-offline's empty body (and its JSON `null`): `body: null`, as the gateway really sends it.
  | { kind: 'null'; contentType: string | undefined }
  | { kind: 'text'; text: string; contentType: string | undefined }
  | { kind: 'base64'; bytes: Uint8Array; contentType: string | undefined };

const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json; charset=latin1',
    'application/problem+json',
    'application/vnd.api+json',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
    'application/json\u0000',
    '*/*',
  ),
  fc.constant(undefined),
);

/** Invalid UTF-8: stray continuation bytes, overlong forms, CESU surrogates, truncated sequences. */
const badUtf8 = fc.constantFrom(
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x9b],
);

function bodyFor(object: fc.Arbitrary<J>): fc.Arbitrary<Body> {
  const jsonText = fc.oneof({ weight: 4, arbitrary: object }, anyJson).map(toText);
  return fc.oneof(
    {
      weight: 30,
      arbitrary: fc
        .tuple(jsonText, contentTypes)
        .map(([text, contentType]) => ({ kind: 'text' as const, text, contentType })),
    },
    // Syntax errors: truncated, trailing garbage, raw text.
    fc
      .tuple(jsonText, fc.nat(), fc.constantFrom('', ',', '}', ']', 'x', '\u0000', '/*', ' null'))
      .map(([t, cut, tail]) => ({
        kind: 'text' as const,
        text: t.slice(0, cut % (t.length + 1)) + tail,
        contentType: 'application/json',
      })),
    anyString.map((text) => ({ kind: 'text' as const, text, contentType: 'application/json' })),
    // Invalid UTF-8 inside a JSON string (and around it), sent as a binary (base64) body.
    fc.tuple(jsonText, badUtf8, fc.nat()).map(([t, bad, at]) => {
      const bytes = Buffer.from(t, 'utf8');
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      return {
        kind: 'base64' as const,
        bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]),
        contentType: 'application/json',
      };
    }),
    fc
      .uint8Array({ maxLength: 64 })
      .map((bytes) => ({ kind: 'base64' as const, bytes, contentType: 'application/json' })),
    // Over 64 KiB (and right at the limit), as text or binary.
    fc.tuple(fc.integer({ min: -2, max: 4_096 }), fc.boolean(), jsonText).map(([extra, binary, t]) => {
      const size = 64 * 1024 + extra;
      const text = `{"name":${JSON.stringify('n'.repeat(Math.max(0, size - 11 - t.length)))},"x":${t}}`.slice(
        0,
        Math.max(size, 0),
      );
      return binary
        ? { kind: 'base64' as const, bytes: Buffer.from(text), contentType: 'application/json' }
        : { kind: 'text' as const, text, contentType: 'application/json' };
    }),
    fc.constant({ kind: 'none' as const }),
    fc.constant({ kind: 'text' as const, text: '', contentType: 'application/json' }),
    fc.option(contentTypes, { nil: undefined }).map((contentType) => ({ kind: 'null' as const, contentType })),
  );
}

const adminHeader = fc.oneof(
  { weight: 20, arbitrary: fc.constant(`Bearer ${DEV_ADMIN_API_KEY}`) },
  fc.constantFrom(
    `bearer ${DEV_ADMIN_API_KEY}`,
    `Bearer  ${DEV_ADMIN_API_KEY}`,
    `Bearer ${DEV_ADMIN_API_KEY}x`,
    `Bearer ${DEV_ADMIN_API_KEY.slice(0, -1)}`,
    `Basic ${Buffer.from(`admin:${DEV_ADMIN_API_KEY}`).toString('base64')}`,
    'Bearer ',
    'Bearer',
    '',
    `Bearer ${'k'.repeat(10_000)}`,
    `Bearer ${DEV_ADMIN_API_KEY}\u0000`,
    `Bearer ${DEV_ADMIN_API_KEY},Bearer other`,
  ),
  anyString,
);

const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'idempotency-key',
    'if-match',
    'if-none-match',
    'accept',
    'content-length',
    'x-forwarded-for',
    'Content-Type',
    'AUTHORIZATION',
    'Idempotency-Key',
    'x-amzn-trace-id',
  ),
  fc.oneof(
    anyString,
    // A few keys reused on purpose: replays (same body) and reuse with another body (422).
    fc.constantFrom(
      '*',
      '"abc"',
      'W/"abc"',
      '"',
      'fuzz-key-1',
      'fuzz-key-2',
      'fuzz-key-3',
      '-1',
      '99999999999999999999',
    ),
    fc.constantFrom(' ', 'k'.repeat(255), 'k'.repeat(256), 'clé', 'key\u0000', 'key\n', '\u007f'),
  ),
  { maxKeys: 2 },
);

/** Idempotency-Key: fresh keys, a few reused ones (replays, or another body: 422), hostile values. */
const idempotencyKey = fc.option(
  fc.oneof(
    { weight: 4, arbitrary: fc.uuid().map((u) => `fuzz-${u}`) },
    { weight: 2, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3') },
    anyString,
  ),
  { freq: 2, nil: undefined },
);

const queryValue = fc.oneof(
  fc.constantFrom(
    '1',
    '2',
    '10',
    '100',
    '101',
    '0',
    '-1',
    '1.5',
    '1e2',
    '1e309',
    '-0',
    ' 1',
    '01',
    '0x10',
    '9'.repeat(40),
    '',
    'abc',
    'eyJ4IjoxfQ',
    'null',
  ),
  anyString,
);
const query = fc.dictionary(
  fc.oneof(
    fc.constantFrom('page', 'per_page', 'cursor', '__proto__', 'constructor', 'page[]', 'PAGE'),
    fc.string({ maxLength: 6 }),
  ),
  queryValue,
  { maxKeys: 3 },
);

// ------------------------------------------------------------------------------------------------
// Targets: every handler with how its path looks and what its body is made of.

interface Target {
  name: string;
  handler: Handler;
  method: string;
  route: string;
  /** Name of the path parameter, if any. */
  param?: 'id' | 'file';
  paramValues?: () => string[];
  body?: fc.Arbitrary<J>;
  admin: boolean;
  weight: number;
}

const productIds: number[] = [];
const orderIds: string[] = [];
const idParam = (known: () => string[]) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .constant(null)
        .map(() => known())
        .chain((ids) => fc.constantFrom(...ids)),
    },
    fc.constantFrom(
      'ord_aaaaaaaaaaaaaaaaaaaaaaaaaa',
      'ORD_AAAAAAAAAAAAAAAAAAAAAAAAAA',
      'ord_%',
      "ord_' OR '1'='1",
      '0',
      '-1',
      '1.0',
      '1e3',
      '1e309',
      '-0',
      ' 1',
      '0x10',
      '9'.repeat(20),
      '9007199254740992',
      '99999999',
      '__proto__',
      'constructor',
      'ord_',
      '',
      '../../package.json',
      '..%2F..%2Fpackage.json',
      '/etc/passwd',
      'swagger-ui.css\u0000.js',
      'index.html',
    ),
    anyString,
  );

const targets: Target[] = [
  { name: 'GET /products', handler: listProducts, method: 'GET', route: '/products', admin: false, weight: 3 },
  {
    name: 'POST /products',
    handler: createProduct,
    method: 'POST',
    route: '/products',
    body: nearObject(productFields),
    admin: true,
    weight: 5,
  },
  {
    name: 'GET /products/{id}',
    handler: getProduct,
    method: 'GET',
    route: '/products/{id}',
    param: 'id',
    paramValues: () => productIds.map(String),
    admin: false,
    weight: 2,
  },
  {
    name: 'PATCH /products/{id}',
    handler: updateProduct,
    method: 'PATCH',
    route: '/products/{id}',
    param: 'id',
    paramValues: () => productIds.map(String),
    body: nearObject(productFields),
    admin: true,
    weight: 5,
  },
  {
    name: 'DELETE /products/{id}',
    handler: deleteProduct,
    method: 'DELETE',
    route: '/products/{id}',
    param: 'id',
    paramValues: () => ['99999999'],
    admin: true,
    weight: 1,
  },
  {
    name: 'POST /orders',
    handler: createOrder,
    method: 'POST',
    route: '/orders',
    body: nearObject(orderFields),
    admin: false,
    weight: 8,
  },
  {
    name: 'GET /orders/{id}',
    handler: getOrder,
    method: 'GET',
    route: '/orders/{id}',
    param: 'id',
    paramValues: () => orderIds,
    admin: false,
    weight: 2,
  },
  { name: 'GET /orders', handler: listOrders, method: 'GET', route: '/orders', admin: true, weight: 2 },
  {
    name: 'POST /orders/{id}/cancel',
    handler: cancelOrder,
    method: 'POST',
    route: '/orders/{id}/cancel',
    param: 'id',
    paramValues: () => orderIds,
    admin: true,
    weight: 2,
  },
  { name: 'GET /health', handler: health, method: 'GET', route: '/health', admin: false, weight: 1 },
  { name: 'GET /openapi.json', handler: openapi, method: 'GET', route: '/openapi.json', admin: false, weight: 1 },
  { name: 'GET /docs', handler: docs, method: 'GET', route: '/docs', admin: false, weight: 1 },
  {
    name: 'GET /docs/{file}',
    handler: docsAsset,
    method: 'GET',
    route: '/docs/{file}',
    param: 'file',
    paramValues: () => ['swagger-ui.css', 'swagger-ui-bundle.js', 'index.css'],
    admin: false,
    weight: 1,
  },
  { name: 'any other path', handler: notFound, method: 'GET', route: '$default', admin: false, weight: 1 },
];

interface FuzzRequest {
  target: Target;
  method: string;
  id: string | undefined;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Body;
}

const request: fc.Arbitrary<FuzzRequest> = fc
  .oneof(...targets.map((t) => ({ weight: t.weight, arbitrary: fc.constant(t) })))
  .chain((target) =>
    fc.record({
      target: fc.constant(target),
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(target.method) },
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get'),
      ),
      id: target.param ? idParam(target.paramValues ?? (() => ['1'])) : fc.constant(undefined),
      query,
      headers: fc
        .tuple(
          fc.option(adminHeader, { freq: 10, nil: undefined }),
          fc.option(extraHeaders, { freq: 3, nil: undefined }),
          target.name === 'POST /orders' ? idempotencyKey : fc.constant(undefined),
        )
        .map(([auth, extra, key]) => ({
          ...(auth === undefined ? {} : { authorization: auth }),
          ...(key === undefined ? {} : { 'idempotency-key': key }),
          ...extra,
        })),
      body: target.body ? bodyFor(target.body) : fc.oneof(fc.constant({ kind: 'none' as const }), bodyFor(anyJson)),
    }),
  );

/** The raw path as API Gateway would see it (a lone surrogate cannot be percent-encoded: kept as is). */
function pathSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

async function send(r: FuzzRequest): Promise<Reply<{ code?: string; status?: number; request_id?: string }>> {
  const path =
    r.target.route === '$default'
      ? `/${r.id ?? 'nowhere'}`
      : r.target.route.replace(/\{(id|file)\}/, pathSegment(r.id ?? ''));
  const headers: Record<string, string> = { ...r.headers };
  let rawBody: string | null | undefined;
  let isBase64Encoded = false;
  if (r.body.kind !== 'none') {
    if (r.body.contentType !== undefined) headers['content-type'] = r.body.contentType;
    rawBody =
      r.body.kind === 'null'
        ? null
        : r.body.kind === 'text'
          ? r.body.text
          : Buffer.from(r.body.bytes).toString('base64');
    isBase64Encoded = r.body.kind === 'base64';
  }
  return invoke(r.target.handler, {
    method: r.method,
    path,
    route: r.target.route,
    ...(r.target.param && r.id !== undefined ? { pathParameters: { [r.target.param]: r.id } } : {}),
    query: r.query,
    headers,
    ...(rawBody !== undefined ? { rawBody, isBase64Encoded } : {}),
  });
}

// ------------------------------------------------------------------------------------------------

const tally = {
  requests: 0,
  accepted: 0,
  rejected: 0,
  byStatus: new Map<number, number>(),
  byTarget: new Map<string, string[]>(),
};
let isolated: IsolatedDatabase | undefined;

describe('hostile input', () => {
  beforeAll(async () => {
    isolated = await useIsolatedDatabase('shop_fuzz');
    for (let i = 0; i < 4; i++) productIds.push((await makeProduct({ stock: 1_000_000 })).id);
    productIds.push((await makeProduct({ stock: 3, archived: true })).id);
    for (const id of productIds.slice(0, 3)) {
      const res = await invoke<{ id: string }>(createOrder, {
        method: 'POST',
        path: '/orders',
        json: { products: [{ product_id: id, quantity: 1 }] },
      });
      orderIds.push(res.body.id);
    }
  }, 120_000);

  afterAll(async () => {
    const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    console.log(
      `[fuzz] ${tally.requests} generated requests: ${tally.rejected} rejected, ${tally.accepted} accepted; statuses ${statuses.join(' ')}`,
    );
    const perTarget = [...tally.byTarget].map(([name, codes]) => {
      const counts = new Map<string, number>();
      for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
      return `  ${name}: ${[...counts]
        .sort()
        .map(([c, n]) => `${c}×${n}`)
        .join(' ')}`;
    });
    console.log(`[fuzz] by handler:\n${perTarget.join('\n')}`);
    await isolated?.drop();
  }, 120_000);

  let last = '';
  test.prop([request], { numRuns: RUNS, interruptAfterTimeLimit: 240_000 })(
    'no request gets a 5xx, every rejection is a catalogued problem, and no rejected request (nor any GET) changes any row',
    async (r) => {
      if (last === '') last = await fingerprint();
      const res = await send(r);
      tally.requests += 1;
      tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
      tally.byTarget.set(r.target.name, [
        ...(tally.byTarget.get(r.target.name) ?? []),
        res.status >= 400 ? `${res.status} ${res.body.code}` : String(res.status),
      ]);
      expect(res.status, `${r.target.name}: ${res.text}`).toBeLessThan(500);
      expect(res.headers['x-request-id']).toBeTruthy();
      const now = await fingerprint();
      if (res.status >= 400) {
        tally.rejected += 1;
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(ERROR_CODES).toContain(res.body.code);
        expect(res.body.status).toBe(res.status);
        expect(res.body.request_id).toBe(res.headers['x-request-id']);
        expect(now, `${r.target.name} rejected with ${res.status} ${res.body.code} but changed data`).toBe(last);
      } else {
        tally.accepted += 1;
        if (r.target.method === 'GET') expect(now, `${r.target.name} GET changed data`).toBe(last);
      }
      last = now;
    },
    300_000,
  );

  test('at least 10,000 requests were generated', () => {
    expect(tally.requests).toBeGreaterThanOrEqual(Math.min(RUNS, 10_000));
  });
});
