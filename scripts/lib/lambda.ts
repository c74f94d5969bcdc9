import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { DEV_ADMIN_API_KEY } from '../../lib/config';

/**
 * Invoking a real Lambda handler in this process, as API Gateway (HTTP API, payload v2) and the
 * Lambda runtime would: the one event builder of the tests, the benchmark and `npm run invoke`.
 */
export interface EventOptions {
  method?: string;
  /** The concrete path, e.g. `/products/7`. */
  path: string;
  /** The route template, e.g. `/products/{id}`; defaults to the path. */
  route?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /**
   * Query parameters as sent, repeats included (`[['q', 'a'], ['q', 'b']]`): API Gateway keeps them
   * apart in rawQueryString and joins a repeated one's values with commas in queryStringParameters.
   */
  queryPairs?: Array<[string, string]>;
  headers?: Record<string, string>;
  /** Serialised as JSON with `content-type: application/json` unless `rawBody` is given. */
  json?: unknown;
  /**
   * The body exactly as the gateway hands it over: `null` is what serverless-offline sends for an
   * empty body; leaving it out gives an event without `body`, as API Gateway sends for none.
   */
  rawBody?: string | null;
  isBase64Encoded?: boolean;
  admin?: boolean;
}

export function apiEvent(o: EventOptions): APIGatewayProxyEventV2 {
  const method = o.method ?? 'GET';
  const headers: Record<string, string> = { host: 'localhost', 'user-agent': 'vitest' };
  let body: string | null | undefined = o.rawBody;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  }
  if (o.admin) headers.authorization = `Bearer ${DEV_ADMIN_API_KEY}`;
  Object.assign(headers, o.headers);
  const pairs = o.queryPairs ?? Object.entries(o.query ?? {});
  const query: Record<string, string> = {};
  for (const [k, v] of pairs) query[k] = k in query ? `${query[k]},${v}` : v;
  const rawQueryString = pairs.length > 0 ? new URLSearchParams(pairs).toString() : '';
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: `${method} ${o.route ?? o.path}`,
    rawPath: o.path,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: o.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: `${method} ${o.route ?? o.path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: o.isBase64Encoded ?? false,
  };
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (o.pathParameters) event.pathParameters = o.pathParameters;
  // API Gateway's type says `body?: string`; serverless-offline sends `null`, so the builder can too.
  if (body !== undefined) event.body = body as string;
  return event;
}

// The context's methods, made once rather than per invocation.
const remainingTime = () => 10_000;
const nothing = () => undefined;

export function lambdaContext(functionName = 'test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: remainingTime,
    done: nothing,
    fail: nothing,
    succeed: nothing,
  };
}

export interface Reply<T = unknown> {
  status: number;
  headers: Record<string, string>;
  /** The body parsed as JSON when the response is JSON (parsed on first read), else the text. */
  readonly body: T;
  text: string | undefined;
}

class HandlerReply<T> implements Reply<T> {
  #parsed: { value: T } | undefined;
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly text: string | undefined,
  ) {}
  get body(): T {
    if (this.#parsed === undefined) {
      const { text } = this;
      const json = text !== undefined && text !== '' && (this.headers['content-type'] ?? '').includes('json');
      this.#parsed = { value: json ? (JSON.parse(text) as T) : (text as T) };
    }
    return this.#parsed.value;
  }
}

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** `functions/<path>.ts`'s exported `handler`, loaded by path as Lambda does. */
export function loadHandler(repoRoot: string, relPath: string): Handler {
  const mod = require(join(repoRoot, relPath)) as { handler?: Handler };
  if (typeof mod.handler !== 'function') throw new Error(`${relPath} exports no handler`);
  return mod.handler;
}

/** Invokes a real handler with a built event (or a given one). */
// biome-ignore lint/suspicious/noExplicitAny: tests read bodies of many shapes
export async function invoke<T = any>(
  handler: Handler,
  o: EventOptions | APIGatewayProxyEventV2,
  functionName = 'test',
): Promise<Reply<T>> {
  const event = 'version' in o ? o : apiEvent(o);
  const result = await handler(event, lambdaContext(functionName));
  if (typeof result === 'string') throw new Error('handler returned a bare string');
  const headers: Record<string, string> = {};
  const given = result.headers ?? {};
  for (const k in given) headers[k.toLowerCase()] = String(given[k]);
  return new HandlerReply<T>(result.statusCode ?? 200, headers, result.body);
}
