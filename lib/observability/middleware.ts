import { performance } from 'node:perf_hooks';
import type { Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { AppError } from '../errors';
import { invocationScope } from '../request-scope';
import { requestCounts } from './counters';
import { withEnvSnapshot } from './env-snapshot';
import { logger } from './logger';
import { type RequestOutcome, requestMetrics } from './metrics';

type HttpRequest = Request<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, Context>;

// A Lambda instance's first request pays for module loading and the first DB connection.
let coldStart = true;

interface Started {
  at: number;
  coldStart: boolean;
}
const started = new WeakMap<HttpRequest, Started>();

/** `GET /products/{id}` from API Gateway; the catch-all's `$default` becomes method + path. */
function routeOf(event: APIGatewayProxyEventV2): string {
  const key = event.routeKey;
  if (key && key !== '$default') return key;
  return `${event.requestContext?.http?.method ?? 'GET'} ${event.rawPath}`;
}

function headerOf(result: APIGatewayProxyResultV2 | null | undefined, name: string): string | undefined {
  if (!result || typeof result === 'string') return undefined;
  for (const [k, v] of Object.entries(result.headers ?? {})) if (k.toLowerCase() === name) return String(v);
  return undefined;
}

/**
 * Server-side view of the failure behind a 5xx: what the client never sees. Chosen fields, not the
 * whole driver error, which can carry the SQL text and its values.
 */
function errorDetails(error: AppError): Record<string, unknown> {
  const cause = error.cause;
  if (!(cause instanceof Error)) return { name: error.name, message: error.message };
  const driverCode = (cause as Error & { code?: unknown }).code;
  return {
    name: cause.name,
    message: cause.message,
    ...(typeof driverCode === 'string' ? { driver_code: driverCode } : {}),
    ...(error.code === 'internal_error' ? { stack: cause.stack } : {}),
  };
}

/**
 * One JSON log line and the metrics of each request, once the chain has its final response and, on
 * failure, the AppError the problem+json boundary mapped the error to (lib/http/handler.ts).
 */
export function requestFinished(request: HttpRequest, orderMetrics: boolean): void {
  const start = started.get(request);
  const event = request.event;
  const result = request.response;
  const status = result && typeof result !== 'string' ? (result.statusCode ?? 200) : 200;
  const error = request.error instanceof AppError ? request.error : undefined;
  const route = routeOf(event);
  const requestId = request.context.awsRequestId;
  const dbRetries = requestCounts(invocationScope(request.context))?.dbRetries ?? 0;

  // Only facts about the request: never headers (Authorization, cookies), query strings or bodies.
  const line = {
    request_id: requestId,
    route,
    path: event.rawPath,
    status,
    duration_ms: start ? Math.round((performance.now() - start.at) * 10) / 10 : undefined,
    cold_start: start?.coldStart ?? false,
    function_name: request.context.functionName,
    ...(error ? { code: error.code } : {}),
    ...(dbRetries > 0 ? { db_retries: dbRetries } : {}),
  };
  const outcome: RequestOutcome = {
    requestId,
    orderMetrics,
    status,
    code: error?.code,
    replayed: headerOf(result, 'idempotent-replayed') === 'true',
    dbRetries,
  };
  // Made first, against the real environment: they read their settings from it when made.
  const log = logger();
  const publish = requestMetrics();
  // Powertools reads the environment on nearly every call: a plain copy meanwhile (env-snapshot.ts).
  withEnvSnapshot(() => {
    if (status >= 500 && error) {
      const failed = { ...line, error: errorDetails(error) };
      // An unexpected bug is an error; a 503 (busy, database down) is a warning an alarm may count.
      if (error.code === 'internal_error') log.error('request failed', failed);
      else log.warn('request failed', failed);
    } else {
      log.info('request', line);
    }
    publish(outcome);
  });
}

/** Call when the request enters the chain: its start time and whether it is the instance's first. */
export function requestStarted(request: HttpRequest): void {
  started.set(request, { at: performance.now(), coldStart });
  coldStart = false;
}
