import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one request carries through everything it awaits, for code deep in the stack that knows
 * nothing of HTTP: its tallies (lib/observability/counters.ts) and the deadline of its database
 * work (lib/db/statement-deadline.ts). AsyncLocalStorage keeps concurrent invocations in one
 * process (tests, serverless-offline --useInProcess) apart.
 *
 * ONE AsyncLocalStorage for both: on Node 20 every instance in use adds work to every promise
 * and callback the process makes, whoever made it.
 */
export interface RequestCounts {
  dbRetries: number;
}

export interface RequestScope {
  counts: RequestCounts;
  /** Epoch ms by which database work must end; undefined: no bound. */
  deadlineAt: number | undefined;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** The current request's scope, undefined outside a request (scripts, migrations). */
export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/** A request's scope: fresh counts and its database deadline, in one `run`. */
export function withRequestScope<T>(deadlineAt: number | undefined, fn: () => T): T {
  const deadline = deadlineAt !== undefined && Number.isFinite(deadlineAt) ? deadlineAt : undefined;
  return storage.run({ counts: { dbRetries: 0 }, deadlineAt: deadline }, fn);
}
