import { CompiledQuery, type QueryResult } from 'kysely';

/**
 * What a statement of the order path runs on: a Kysely instance or transaction, or a session on one
 * pooled connection (lib/db/session.ts). Both take a CompiledQuery and answer Kysely's QueryResult.
 */
export interface SqlExecutor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /**
   * The same for fixed text and its parameters, without a CompiledQuery (whose construction
   * freezes three objects and draws a query id per statement): offered by session transactions.
   */
  executeSql?<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * Sends `statements` and then COMMIT as ONE query (one round trip) and ends the transaction with
   * it. The server runs them in order and stops at the first error, so COMMIT runs only if every
   * statement before it succeeded; after an error the transaction is still open (the caller's
   * wrapper rolls it back). The results, one per statement, COMMIT's left out. Offered by session
   * transactions (lib/db/session.ts) only: a Kysely transaction runs its statements one by one.
   */
  commitWith?(statements: readonly SqlText[]): Promise<Array<QueryResult<unknown>>>;
}

/** One statement: fixed text with `?` placeholders and its parameters. */
export interface SqlText {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * Statements of the hot order path sent as fixed text with `?` parameters, skipping Kysely's query
 * builder and compiler (their per-call cost was ~¼ of the client CPU of an order). Same wire
 * behaviour as the builder: mysql2 `query` (text protocol) formats the parameters client-side, so
 * nothing is prepared on the server.
 */
export function runSql<R = unknown>(
  conn: SqlExecutor,
  text: string,
  parameters: readonly unknown[],
): Promise<QueryResult<R>> {
  if (conn.executeSql) return conn.executeSql<R>(text, parameters);
  return conn.executeQuery(CompiledQuery.raw(text, parameters as unknown[]) as CompiledQuery<R>);
}

const cache = new Map<string, string>();

/** `unit` `n` times joined by `separator`, e.g. `?, ?, ?` or `(?, ?), (?, ?)` (cached: few shapes repeat). */
export function repeated(n: number, unit: string, separator = ', '): string {
  const key = `${n}\u0000${unit}\u0000${separator}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = Array.from({ length: n }, () => unit).join(separator);
    if (n <= 64 && cache.size < 500) cache.set(key, text);
  }
  return text;
}

/** `(?, ?, …), (?, ?, …)`: `rows` rows of `width` placeholders, for a multi-row INSERT. */
export const valueRows = (rows: number, width: number): string => repeated(rows, `(${repeated(width, '?')})`);
