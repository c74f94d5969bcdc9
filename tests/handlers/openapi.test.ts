import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { oas31 } from 'zod-openapi';
import { handler as notFound } from '../../functions/system/not-found';
import { handler as openapi } from '../../functions/system/openapi';
import { DEV_ADMIN_API_KEY, config } from '../../lib/config';
import { closeDb, db } from '../../lib/db/client';
import { ERROR_CODES, type ErrorCode } from '../../lib/errors';
import { HTTP_ERRORS } from '../../lib/http/problem';
import type { FunctionDeclaration, RouteDeclaration } from '../../lib/http/route';
import { FUNCTIONS, ROUTES } from '../../lib/routes';
import { serverlessFunctions } from '../../deploy/serverless-functions';
import { archiveProduct } from '../../lib/products/service';
import { invoke } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';

const root = join(__dirname, '..', '..');
type Method = 'get' | 'post' | 'patch' | 'delete';
type AnyHandler = Parameters<typeof invoke>[0] & { route: RouteDeclaration | FunctionDeclaration };

/** The HTTP routes the `functions:` section of serverless.yml deploys: `GET /products/{id}` → function name and handler. */
function serverlessRoutes(): Map<string, { functionName: string; handler: string }> {
  const out = new Map<string, { functionName: string; handler: string }>();
  for (const [functionName, fn] of Object.entries(serverlessFunctions())) {
    for (const event of fn.events ?? []) {
      if (!('httpApi' in event) || event.httpApi === '*') continue; // the catch-all
      out.set(`${event.httpApi.method.toUpperCase()} ${event.httpApi.path}`, { functionName, handler: fn.handler });
    }
  }
  return out;
}

async function loadHandler(handlerPath: string): Promise<AnyHandler> {
  const [file, exportName] = handlerPath.split('.') as [string, string];
  const mod = (await import(join(root, `${file}.ts`))) as Record<string, AnyHandler>;
  const handler = mod[exportName];
  if (!handler) throw new Error(`${handlerPath} does not export ${exportName}`);
  return handler;
}

let doc: oas31.OpenAPIObject;
let etag: string;

beforeAll(async () => {
  const res = await invoke<oas31.OpenAPIObject>(openapi, { path: '/openapi.json' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  doc = res.body;
  etag = res.headers.etag ?? '';
});

afterAll(async () => {
  await closeDb();
});

const operationsOf = (d: oas31.OpenAPIObject): string[] =>
  Object.entries(d.paths ?? {}).flatMap(([path, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const)
      .filter((m) => item[m] !== undefined)
      .map((m) => `${m.toUpperCase()} ${path}`),
  );

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route serverless.yml deploys, and nothing else', () => {
    // serverless.yml takes its functions from the declarations, through deploy/functions.js.
    expect(readFileSync(join(root, 'serverless.yml'), 'utf8')).toMatch(
      /^functions: \$\{file\(\.\/deploy\/functions\.js\)\}$/m,
    );
    const deployed = [...serverlessRoutes().keys()].sort();
    expect(operationsOf(doc).sort()).toEqual(deployed);
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(deployed);
  });

  it('deploys each HTTP handler with the declaration it is wrapped in (so its schemas are the documented ones)', async () => {
    const deployed = serverlessFunctions();
    for (const declared of FUNCTIONS) {
      const fn = deployed[declared.functionName];
      expect(fn?.handler, declared.functionName).toBe(`${declared.lambda.handler}.handler`);
      if ('method' in declared || 'catchAll' in declared.trigger) {
        expect((await loadHandler(fn?.handler ?? '')).route, declared.functionName).toBe(declared);
      }
    }
    expect(Object.keys(deployed)).toEqual(FUNCTIONS.map((f) => f.functionName));
  });

  it('puts the Bearer scheme on admin routes only', () => {
    expect(doc.components?.securitySchemes?.adminKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const route of ROUTES) {
      const op = doc.paths?.[route.path]?.[route.method.toLowerCase() as Method];
      if (route.admin) {
        expect(op?.security, route.functionName).toEqual([{ adminKey: [] }]);
        expect(op?.responses?.['401'], route.functionName).toBeDefined();
      } else {
        expect(op?.security, route.functionName).toBeUndefined();
        expect(op?.responses?.['401'], route.functionName).toBeUndefined();
      }
    }
  });

  it('describes problem+json errors with every error code, each under its status', () => {
    const problem = doc.components?.schemas?.Problem as oas31.SchemaObject;
    const code = problem.properties?.code as oas31.SchemaObject;
    expect(code.enum).toEqual([...ERROR_CODES]);
    const seen = new Set<string>();
    for (const item of Object.values(doc.paths ?? {})) {
      for (const op of Object.values(item) as oas31.OperationObject[]) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          const content = (response as oas31.ResponseObject).content?.['application/problem+json'];
          for (const [name, example] of Object.entries(content?.examples ?? {})) {
            const value = (example as oas31.ExampleObject).value as {
              code: ErrorCode;
              status: number;
            };
            expect(value.code).toBe(name);
            expect(String(HTTP_ERRORS[value.code].status)).toBe(status);
            seen.add(name);
          }
        }
      }
    }
    // 405 comes from the catch-all only, described in the document's description rather than on a path.
    const routeLevel = ERROR_CODES.filter((c) => c !== 'method_not_allowed');
    expect([...seen].sort()).toEqual(routeLevel.sort());
    expect(doc.info.description).toContain('`route_not_found`');
    expect(doc.info.description).toContain('`method_not_allowed`');
  });

  it('documents the Idempotency-Key, If-Match and If-None-Match request headers', () => {
    const headerNames = (path: string, method: Method) =>
      (doc.paths?.[path]?.[method]?.parameters ?? [])
        .filter((p): p is oas31.ParameterObject => 'in' in p && p.in === 'header')
        .map((p) => p.name);
    expect(headerNames('/orders', 'post')).toEqual(['Idempotency-Key']);
    expect(headerNames('/products/{id}', 'patch')).toEqual(['If-Match']);
    expect(headerNames('/products/{id}', 'get')).toEqual(['If-None-Match']);
    expect(headerNames('/products', 'get')).toEqual(['If-None-Match']);
  });

  it('shows paging parameters as bounded integers', () => {
    const perPage = doc.paths?.['/products']?.get?.parameters?.find(
      (p): p is oas31.ParameterObject => 'name' in p && p.name === 'per_page',
    );
    expect(perPage?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const res = await invoke(openapi, { path: '/openapi.json', headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    expect(res.text ?? '').toBe('');
  });

  it('reveals no configuration or secret', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain(DEV_ADMIN_API_KEY);
    for (const key of config().adminApiKeys) expect(text).not.toContain(key);
    expect(text).not.toContain('mysql://');
    expect(text).not.toContain(config().databaseUrl);
  });

  it('is GET-only: other methods get 405 problem+json from the catch-all', async () => {
    for (const path of ['/openapi.json', '/docs']) {
      const res = await invoke(notFound, { method: 'POST', path, route: '$default' });
      expect(res.status).toBe(405);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.headers.allow).toBe('GET');
    }
  });
});

describe('examples in the document', () => {
  /** The example request of an operation: body and query from the document, ids of fresh records. */
  async function exampleRequest(path: string, method: Method) {
    const op = doc.paths?.[path]?.[method] as oas31.OperationObject;
    const body = (op.requestBody as oas31.RequestBodyObject | undefined)?.content?.['application/json']?.example;
    const query: Record<string, string> = {};
    for (const p of op.parameters ?? []) {
      if ('in' in p && p.in === 'query' && p.example !== undefined) query[p.name] = String(p.example);
    }
    return { op, body: body as Record<string, unknown> | undefined, query };
  }

  it('are accepted by the real handlers', async () => {
    let checked = 0;
    for (const route of ROUTES) {
      const { op, body, query } = await exampleRequest(route.path, route.method.toLowerCase() as Method);
      if (body === undefined && Object.keys(query).length === 0) continue;
      const handler = await loadHandler(`${route.lambda.handler}.handler`);

      // Path ids and product ids in bodies cannot be static: point them at records made for the test.
      const product = await makeProduct({ stock: 1_000 });
      const pathParameters = route.path.includes('{id}') ? { id: String(product.id) } : undefined;
      let json = body;
      if (json && Array.isArray(json.products)) {
        json = { ...json, products: json.products.map((l: object) => ({ ...l, product_id: product.id })) };
      }
      if (json && typeof json.name === 'string') {
        // A product name is unique among live products: free the example's name first.
        const live = await db().selectFrom('products').select('id').where('live_name', '=', json.name).execute();
        for (const { id } of live) await archiveProduct(db(), Number(id));
      }

      const res = await invoke(handler, {
        method: route.method,
        path: pathParameters ? route.path.replace('{id}', pathParameters.id) : route.path,
        route: route.path,
        ...(pathParameters ? { pathParameters } : {}),
        query,
        ...(json !== undefined ? { json } : {}),
        admin: route.admin,
      });
      const documented = Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2'));
      expect({ route: `${route.method} ${route.path}`, status: res.status, body: res.body }).toMatchObject({
        status: Number(documented[0]),
      });
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(5); // list/create/update products, place/list orders
  });
});
