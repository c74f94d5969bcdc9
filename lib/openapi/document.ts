import { z } from 'zod';
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiOverride,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { version } from '../../package.json';
import { ERROR_CODES, type ErrorCode } from '../errors';
import { httpErrorOf, PROBLEM_CONTENT_TYPE } from '../http/problem';
import { JSON_CONTENT_TYPE } from '../http/response';
import type { ResponseHeader, RouteDeclaration } from '../http/route';
import { ROUTES } from '../routes';
import { errorTableMarkdown } from './error-table';
import { placeOrderBody } from '../orders/schema';
import { RESPONSE_HEADERS } from './headers';
import { problem, problemExample } from './problem';

export const ADMIN_SECURITY_SCHEME = 'adminKey';

/** `idempotency-key` → `Idempotency-Key`: handlers see lower-cased names, clients read canonical ones. */
const canonicalHeader = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function headerParams(...schemas: Array<z.ZodObject | undefined>): z.ZodObject | undefined {
  const entries = schemas.flatMap((s) => (s ? Object.entries(s.shape) : []));
  if (entries.length === 0) return undefined;
  return z.object(Object.fromEntries(entries.map(([k, v]) => [canonicalHeader(k), v])));
}

function responseHeaders(names: readonly ResponseHeader[]): z.ZodObject {
  const all: ResponseHeader[] = ['X-Request-Id', ...names];
  return z.object(Object.fromEntries(all.map((n) => [n, RESPONSE_HEADERS[n]])));
}

/**
 * The errors an operation can answer with: its own domain errors, plus those that follow from how
 * it is wrapped (body → 400/413/415, inputs → 400, admin → 401, database → 503, anything → 500).
 */
export function errorCodesOf(route: RouteDeclaration): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (route.body || route.query || route.params || route.headers) codes.add('validation_failed');
  if (route.body)
    for (const c of ['malformed_json', 'payload_too_large', 'unsupported_media_type'] as const) codes.add(c);
  if (route.admin) codes.add('unauthorized');
  for (const c of route.errors) codes.add(c);
  codes.add('internal_error');
  if (route.usesDatabase !== false) codes.add('database_unavailable');
  return ERROR_CODES.filter((c) => codes.has(c));
}

function errorResponses(codes: ErrorCode[]): Record<string, ZodOpenApiResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = httpErrorOf(code).status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, list] of byStatus) {
    const headers = [...new Set(list.flatMap((c) => Object.keys(httpErrorOf(c).headers ?? {}) as ResponseHeader[]))];
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${httpErrorOf(c).when}`).join('\n\n'),
      headers: responseHeaders(headers),
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: problem,
          examples: Object.fromEntries(
            list.map((c) => [c, { summary: httpErrorOf(c).title, value: problemExample(c) }]),
          ),
        },
      },
    };
  }
  return out;
}

function operationOf(route: RouteDeclaration): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const r of route.responses) {
    const content = r.schema
      ? { [JSON_CONTENT_TYPE]: { schema: r.schema } }
      : r.contentTypes
        ? Object.fromEntries(r.contentTypes.map((t) => [t, { schema: { type: 'string' as const } }]))
        : undefined;
    responses[String(r.status)] = {
      description: r.description,
      headers: responseHeaders(r.headers ?? []),
      ...(content ? { content } : {}),
    };
  }
  Object.assign(responses, errorResponses(errorCodesOf(route)));

  const header = headerParams(route.headers, route.otherHeaders);
  return {
    operationId: route.functionName,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.admin ? { security: [{ [ADMIN_SECURITY_SCHEME]: [] }] } : {}),
    requestParams: {
      ...(route.params ? { path: route.params as z.ZodObject } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(header ? { header } : {}),
    },
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: route.body,
                ...(route.bodyExample !== undefined ? { example: route.bodyExample } : {}),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** Attaches the documented query example to each query parameter (the wire values). */
function addQueryExamples(doc: oas31.OpenAPIObject): void {
  for (const route of ROUTES) {
    const example = route.queryExample;
    const operation = doc.paths?.[route.path]?.[route.method.toLowerCase() as 'get'];
    if (!example || !operation) continue;
    for (const param of operation.parameters ?? []) {
      if ('in' in param && param.in === 'query' && param.name in example) param.example = example[param.name];
    }
  }
}

/**
 * Query and path values are strings on the wire; the shared `intString` schemas check them as
 * digits and then as a bounded integer. Show clients the integer and its bounds rather than the
 * regular expression.
 */
const integerOnTheWire: ZodOpenApiOverride = ({ jsonSchema, zodSchema }) => {
  const def = (zodSchema as { _zod?: { def?: { type?: string; out?: unknown } } })._zod?.def;
  if (def?.type !== 'pipe') return;
  const out = z.toJSONSchema(def.out as z.ZodType, { io: 'output', unrepresentable: 'any' }) as oas31.SchemaObject;
  // A number from a digits-only string is an integer whether or not the number schema says `.int()`.
  const digitsOnly = typeof jsonSchema.pattern === 'string' && /^\^\\d(\{[\d,]+\}|\+)\$$/.test(jsonSchema.pattern);
  if (jsonSchema.type !== 'string' || !(out.type === 'integer' || (out.type === 'number' && digitsOnly))) return;
  delete jsonSchema.pattern;
  jsonSchema.type = 'integer';
  if (out.minimum !== undefined) jsonSchema.minimum = out.minimum;
  if (out.maximum !== undefined) jsonSchema.maximum = out.maximum;
};

export function buildOpenApiDocument(): oas31.OpenAPIObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    const item = paths[route.path] as Record<string, ZodOpenApiOperationObject>;
    item[route.method.toLowerCase()] = operationOf(route);
  }

  const doc = createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Shop API',
        version,
        description:
          'Products and orders of the shop. JSON in and out (UTF-8); every response carries `X-Request-Id`.\n\n' +
          'Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`:\n\n' +
          `${errorTableMarkdown()}\n\n` +
          'Any other path answers 404 `route_not_found`; a known path with another method answers 405 ' +
          '`method_not_allowed` with `Allow`.',
      },
      servers: [{ url: '/', description: 'This service' }],
      tags: [
        { name: 'Products', description: 'The catalogue' },
        { name: 'Orders', description: 'Placing, reading and cancelling orders' },
        { name: 'Operations', description: 'Health, this document and its reference page' },
      ],
      paths,
      components: {
        // Named here rather than with `.meta({ id })`: tests convert lib/orders/schema.ts's body schema as is.
        schemas: { PlaceOrder: placeOrderBody },
        securitySchemes: {
          [ADMIN_SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'Admin endpoints: `Authorization: Bearer <key>`, one of the configured admin keys.',
          },
        },
      },
    },
    { override: integerOnTheWire },
  );
  addQueryExamples(doc);
  return doc;
}

let cached: oas31.OpenAPIObject | undefined;

/** The document, built once per process (it only depends on code). */
export function openApiDocument(): oas31.OpenAPIObject {
  cached ??= buildOpenApiDocument();
  return cached;
}
