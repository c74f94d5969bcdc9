import middy, { type MiddlewareObj, type Request as MiddyRequest } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { requestFinished, requestStarted } from '../observability/middleware';
import { invocationScope, newRequestScope, type RequestScope, setInvocationScope } from '../request-scope';
import { adminApiKeys } from '../secrets';
import { assertAdmin } from './auth';
import { httpStatusOf, PROBLEM_CONTENT_TYPE, problemOf, toAppError } from './problem';
import { readJsonBody } from './json-body';
import type { HttpResult } from './response';
import { queryParamsOf } from './query';
import type { RouteDeclaration } from './route';
import { parseAll } from './validation';

type Event = APIGatewayProxyEventV2;
type Middleware = MiddlewareObj<Event, APIGatewayProxyResultV2, Error, Context>;
type Request = MiddyRequest<Event, APIGatewayProxyResultV2, Error, Context>;

export interface RequestInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  requestId: string;
  event: Event;
  context: Context;
  /**
   * The request's scope (database deadline, retry count): a function that uses the database takes
   * its handles for it, `dbFor(scope)` / `readDbFor(scope)` (lib/db/client.ts). The chain itself
   * never loads the database client, so functions without one (docs, 404) do not bundle it.
   */
  scope: RequestScope;
}

/**
 * What the chain needs of a declaration: a route's (lib/http/route.ts), or the catch-all's, which
 * has no inputs of its own.
 */
export type EndpointDeclaration<B, Q, P> = Pick<RouteDeclaration<B, Q, P>, 'functionName'> &
  Partial<Pick<RouteDeclaration<B, Q, P>, 'admin' | 'body' | 'query' | 'params' | 'headers' | 'orderMetrics'>>;

/** The problem+json answer for any thrown value, through the one mapper; 5xx bodies never carry internals. */
function answerError(request: Request): void {
  const error = toAppError(request.error);
  request.error = error; // observability sees the mapped error and its code
  const requestId = request.context.awsRequestId;
  const { status, headers } = httpStatusOf(error);
  request.response = {
    statusCode: status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers, 'X-Request-Id': requestId },
    body: JSON.stringify(problemOf(error, requestId)),
  };
}

// The library's step, run inside the one middleware below (header names lower-cased).
const normalizeHeaders = httpHeaderNormalizer().before as (request: Request) => Promise<void>;

/**
 * The whole chain as one middy middleware, configured by the route: middy awaits each middleware
 * in turn, and one object instead of five saves those steps on every request (measured:
 * docs/performance.md). The steps and their order are those of separate middlewares:
 * before: observability start → header normaliser → admin key → JSON body; after: X-Request-Id →
 * log line and metrics; onError: problem+json → log line and metrics.
 */
function chain(route: { admin?: boolean; body?: unknown; orderMetrics?: boolean }): Middleware {
  const orderMetrics = route.orderMetrics === true;
  const admin = route.admin === true;
  const body = route.body !== undefined;
  return {
    before: async (request) => {
      requestStarted(request);
      await normalizeHeaders(request);
      // adminApiKeys() is the configured keys, or on prod the Secrets Manager value (cached).
      if (admin) assertAdmin(request.event.headers?.authorization, await adminApiKeys());
      if (body) readJsonBody(request.event);
    },
    after: (request) => {
      const res = request.response as HttpResult;
      res.headers = { ...res.headers, 'X-Request-Id': request.context.awsRequestId };
      requestFinished(request, orderMetrics);
    },
    onError: (request) => {
      answerError(request);
      requestFinished(request, orderMetrics);
    },
  };
}

/**
 * Time kept back from the database budget to map the error, log it and return the response: 30 % of
 * what is left, at least 1.5 s. Generous on purpose: on a loaded machine (serverless-offline, many
 * requests at once) answering takes far longer than on Lambda, and normal queries take milliseconds.
 */
export function responseReserveMs(remainingMs: number): number {
  return Math.max(1_500, Math.round(remainingMs * 0.3));
}

/** When the request's database work must be done: Lambda's remaining time, less the reserve. */
function databaseDeadline(context: Context): number | undefined {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : NaN;
  return Number.isFinite(remaining) ? Date.now() + remaining - responseReserveMs(remaining) : undefined;
}

/**
 * The one middy chain every HTTP handler is wrapped in, configured by the route's declaration:
 * observability (log line, metrics) → boundary (request id, problem+json) → header normaliser →
 * admin key → JSON body → zod → handler, as one middleware (`chain` above). On failure the
 * boundary maps the error first, so observability sees the mapped error and response.
 */
export function endpoint<B = undefined, Q = undefined, P = undefined>(
  route: EndpointDeclaration<B, Q, P>,
  fn: (input: RequestInput<B, Q, P>) => Promise<HttpResult>,
) {
  const handler = middy<Event, APIGatewayProxyResultV2, Error, Context>()
    .use(chain(route))
    .handler(async (event, context) => {
      const query = route.query ? queryParamsOf(event) : undefined;
      const input = parseAll(
        {
          body: { schema: route.body, value: event.body as unknown },
          query: { schema: route.query, value: query?.values },
          params: { schema: route.params, value: event.pathParameters ?? {} },
          headers: { schema: route.headers, value: event.headers ?? {} },
        },
        query?.errors,
      );
      // Set by `invoke` below, the only way into the chain.
      const scope = invocationScope(context) ?? newRequestScope(databaseDeadline(context));
      return fn({
        body: input.body as B,
        query: input.query as Q,
        params: input.params as P,
        headers: (event.headers ?? {}) as Record<string, string | undefined>,
        requestId: context.awsRequestId,
        event,
        context,
        scope,
      });
    });
  // Database work must end before the function's timeout, however many lookups, connects or retries
  // the request makes: it gets what Lambda says is left, less time to answer (lib/db/statement-deadline.ts).
  // The scope is made before the chain runs, so the observability middleware reads its retry count.
  const invoke = (event: Event, context: Context): Promise<APIGatewayProxyResultV2> => {
    setInvocationScope(context, newRequestScope(databaseDeadline(context)));
    return handler(event, context);
  };
  // The declaration rides along so a test can check that each handler serves the route it is deployed for.
  return Object.assign(invoke, { route });
}
