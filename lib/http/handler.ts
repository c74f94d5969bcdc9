import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { observability } from '../observability/middleware';
import { invocationScope, newRequestScope, type RequestScope, setInvocationScope } from '../request-scope';
import { adminApiKeys } from '../secrets';
import { assertAdmin } from './auth';
import { httpStatusOf, PROBLEM_CONTENT_TYPE, problemOf, toAppError } from './problem';
import { jsonBody } from './json-body';
import type { HttpResult } from './response';
import { queryParamsOf } from './query';
import type { RouteDeclaration } from './route';
import { parseAll } from './validation';

type Event = APIGatewayProxyEventV2;
type Middleware = MiddlewareObj<Event, APIGatewayProxyResultV2, Error, Context>;

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

/**
 * Next to the logging/metrics middleware, outermost: every response (success or failure) carries X-Request-Id, and every thrown value
 * becomes problem+json through the one mapper. 5xx bodies never carry internals.
 */
const httpBoundary = (): Middleware => {
  const requestIdOf = (context: Context) => context.awsRequestId;
  return {
    after: async (request) => {
      const res = request.response as HttpResult;
      res.headers = { ...res.headers, 'X-Request-Id': requestIdOf(request.context) };
    },
    onError: async (request) => {
      const error = toAppError(request.error);
      request.error = error; // outer middlewares (logging, metrics) see the mapped error and its code
      const requestId = requestIdOf(request.context);
      const { status, headers } = httpStatusOf(error);
      request.response = {
        statusCode: status,
        headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers, 'X-Request-Id': requestId },
        body: JSON.stringify(problemOf(error, requestId)),
      };
    },
  };
};

const adminAuth = (): Middleware => ({
  before: async (request) => {
    // adminApiKeys() is the configured keys, or on prod the Secrets Manager value (cached).
    assertAdmin(request.event.headers?.authorization, await adminApiKeys());
  },
});

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
 * admin key → JSON body → zod → handler. middy runs `onError` innermost first, so observability
 * sees the boundary's mapped error and response.
 */
export function endpoint<B = undefined, Q = undefined, P = undefined>(
  route: EndpointDeclaration<B, Q, P>,
  fn: (input: RequestInput<B, Q, P>) => Promise<HttpResult>,
) {
  const chain = middy<Event, APIGatewayProxyResultV2, Error, Context>()
    .use(observability({ orderMetrics: route.orderMetrics === true }))
    .use(httpBoundary())
    .use(httpHeaderNormalizer());
  if (route.admin) chain.use(adminAuth());
  if (route.body) chain.use(jsonBody());
  const handler = chain.handler(async (event, context) => {
    const query = queryParamsOf(event);
    const input = parseAll(
      {
        body: { schema: route.body, value: event.body as unknown },
        query: { schema: route.query, value: query.values },
        params: { schema: route.params, value: event.pathParameters ?? {} },
        headers: { schema: route.headers, value: event.headers ?? {} },
      },
      route.query ? query.errors : [],
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
