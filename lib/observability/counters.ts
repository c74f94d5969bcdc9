import type { RequestCounts, RequestScope } from '../request-scope';

/**
 * Per-request tallies that code deep in the stack (the transaction retry loop) can bump without
 * knowing about HTTP, logs or metrics. The observability middleware reads them when the request
 * ends. They live in the request's scope (lib/request-scope.ts), which the database handle the
 * code runs on carries (lib/db/client.ts `scopeOf`).
 */
/** The request's counts, undefined outside a request (scripts, migrations). */
export function requestCounts(scope: RequestScope | undefined): RequestCounts | undefined {
  return scope?.counts;
}

/** Call once per retried transaction attempt (lock wait timeout, deadlock). No-op outside a request. */
export function countRetry(scope: RequestScope | undefined): void {
  if (scope) scope.counts.dbRetries += 1;
}
