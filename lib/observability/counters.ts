import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-request tallies that code deep in the stack (the transaction retry loop) can bump without
 * knowing about HTTP, logs or metrics. The observability middleware reads them when the request
 * ends. AsyncLocalStorage keeps concurrent invocations in one process (tests, offline) apart.
 */
export interface RequestCounts {
  dbRetries: number;
}

const scope = new AsyncLocalStorage<RequestCounts>();

/** Runs `fn` with fresh counts; everything it awaits shares them. */
export function withRequestCounts<T>(fn: () => T): T {
  return scope.run({ dbRetries: 0 }, fn);
}

/** The current request's counts, undefined outside a request (scripts, migrations). */
export function requestCounts(): RequestCounts | undefined {
  return scope.getStore();
}

/** Call once per retried transaction attempt (lock wait timeout, deadlock). No-op outside a request. */
export function countRetry(): void {
  const counts = scope.getStore();
  if (counts) counts.dbRetries += 1;
}
