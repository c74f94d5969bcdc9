import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { withRequestCounts } from '../observability/counters';
import { observability } from '../observability/middleware';
import { adminApiKeys } from '../secrets';
import { assertAdmin } from './auth';
import { httpStatusOf, PROBLEM_CONTENT_TYPE, problemOf, toAppError } from './problem';
import { jsonBody } from './json-body';
import type { HttpResult } from './response';
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
}

export interface EndpointSpec<B, Q, P> {
  /** Admin endpoints check the Bearer key before anything else about the request. */
  admin?: boolean;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Validates request headers (names lower-cased); handlers read the values from `headers`. */
  headers?: z.ZodType;
}

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
 * The one middy chain every HTTP handler is wrapped in: observability (log line, metrics) →
 * boundary (request id, problem+json) → header normaliser → admin key → JSON body → zod → handler.
 * middy runs `onError` innermost first, so observability sees the boundary's mapped error and response.
 */
export function endpoint<B = undefined, Q = undefined, P = undefined>(
  spec: EndpointSpec<B, Q, P>,
  fn: (input: RequestInput<B, Q, P>) => Promise<HttpResult>,
) {
  const chain = middy<Event, APIGatewayProxyResultV2, Error, Context>()
    .use(observability())
    .use(httpBoundary())
    .use(httpHeaderNormalizer());
  if (spec.admin) chain.use(adminAuth());
  if (spec.body) chain.use(jsonBody());
  const handler = chain.handler(async (event, context) => {
    const input = parseAll({
      body: { schema: spec.body, value: event.body as unknown },
      query: { schema: spec.query, value: event.queryStringParameters ?? {} },
      params: { schema: spec.params, value: event.pathParameters ?? {} },
      headers: { schema: spec.headers, value: event.headers ?? {} },
    });
    return fn({
      body: input.body as B,
      query: input.query as Q,
      params: input.params as P,
      headers: (event.headers ?? {}) as Record<string, string | undefined>,
      requestId: context.awsRequestId,
      event,
      context,
    });
  });
  // Per-request counters (DB retries) are bumped deep in services; the scope must span the whole chain.
  const invoke = (event: Event, context: Context): Promise<APIGatewayProxyResultV2> =>
    withRequestCounts(() => handler(event, context));
  // The spec rides along so a test can check that the OpenAPI document uses these very schemas.
  return Object.assign(invoke, { spec });
}
