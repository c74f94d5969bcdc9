/**
 * What one HTTP request carries to code deep in the stack that knows nothing of HTTP: its tallies
 * (lib/observability/counters.ts) and the deadline of its database work
 * (lib/db/statement-deadline.ts).
 *
 * It travels explicitly, never through AsyncLocalStorage: the handler chain (lib/http/handler.ts)
 * makes one per invocation and hands the function database handles bound to it
 * (`bindScope`, lib/db/client.ts), whose connections and transactions read it. On Node 20 an
 * AsyncLocalStorage in use puts promise hooks on every promise the process makes; measured side by
 * side on the order handler, that was ~20 µs of client CPU per order (docs/decisions/0014).
 * Concurrent invocations in one process (tests, serverless-offline --useInProcess) stay apart
 * because each holds its own handles.
 */
export interface RequestCounts {
  dbRetries: number;
}

export interface RequestScope {
  counts: RequestCounts;
  /** Epoch ms by which database work must end; undefined: no bound. */
  deadlineAt: number | undefined;
}

/** A request's scope: fresh counts and its database deadline (a non-finite one is no bound). */
export function newRequestScope(deadlineAt: number | undefined): RequestScope {
  const deadline = deadlineAt !== undefined && Number.isFinite(deadlineAt) ? deadlineAt : undefined;
  return { counts: { dbRetries: 0 }, deadlineAt: deadline };
}

/**
 * The scope of an invocation, found from its Lambda context object (one per invocation): the
 * handler chain sets it, the observability middleware reads the counts from it.
 */
const byInvocation = new WeakMap<object, RequestScope>();

export function setInvocationScope(context: object, scope: RequestScope): void {
  byInvocation.set(context, scope);
}

export function invocationScope(context: object): RequestScope | undefined {
  return byInvocation.get(context);
}
