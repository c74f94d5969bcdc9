import { currentScope, type RequestCounts } from '../request-scope';

/**
 * Per-request tallies that code deep in the stack (the transaction retry loop) can bump without
 * knowing about HTTP, logs or metrics. The observability middleware reads them when the request
 * ends. They live in the request's scope (lib/request-scope.ts).
 */
/** The current request's counts, undefined outside a request (scripts, migrations). */
export function requestCounts(): RequestCounts | undefined {
  return currentScope()?.counts;
}

/** Call once per retried transaction attempt (lock wait timeout, deadlock). No-op outside a request. */
export function countRetry(): void {
  const counts = currentScope()?.counts;
  if (counts) counts.dbRetries += 1;
}
