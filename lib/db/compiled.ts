import { CompiledQuery, type QueryResult } from 'kysely';
import { chunkBySize, MAX_STATEMENT_BYTES, sqlTextBytes } from './statement-size';

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
  /**
   * Sends `statements` as ONE query (one round trip); the server runs them in order and stops at
   * the first error, which is thrown. One result per statement. Offered by session transactions.
   */
  executeBatch?(statements: readonly SqlText[]): Promise<Array<QueryResult<unknown>>>;
}

/** One statement: fixed text with `?` placeholders and its parameters. */
export interface SqlText {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * `a;\nb;\nc` with their parameters in order: statements sent as one query (the pool allows several
 * per query, pool.ts). The session's batches and the benchmark's raw reference join them this way,
 * and scripts/lib/sent-commands.ts splits recorded queries on it.
 */
export function oneQuery(statements: readonly SqlText[]): SqlText {
  const parameters: unknown[] = [];
  for (const s of statements) parameters.push(...s.parameters);
  return { sql: statements.map((s) => s.sql).join(';\n'), parameters };
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

/** Per unit and separator, the text for each count made so far. */
const cache = new Map<string, Map<number, string>>();
/** Counts up to this are kept (an order has at most 100 lines: every order's text is kept)... */
const CACHED_UP_TO = 256;
/** ...within this many characters in all. */
const CACHE_CHARS = 1_000_000;
let cachedChars = 0;

/** `unit` `n` times joined by `separator`, e.g. `?, ?, ?` or `(?, ?), (?, ?)` (cached: few shapes repeat). */
export function repeated(n: number, unit: string, separator = ', '): string {
  const shape = separator === ', ' ? unit : `${unit}\u0000${separator}`;
  let byCount = cache.get(shape);
  let text = byCount?.get(n);
  if (text !== undefined) return text;
  text = Array.from({ length: n }, () => unit).join(separator);
  if (n <= CACHED_UP_TO && cachedChars + text.length <= CACHE_CHARS) {
    cachedChars += text.length;
    if (!byCount) {
      byCount = new Map();
      cache.set(shape, byCount);
    }
    byCount.set(n, text);
  }
  return text;
}

/** `(?, ?, …), (?, ?, …)`: `rows` rows of `width` placeholders, for a multi-row INSERT. */
export const valueRows = (rows: number, width: number): string => repeated(rows, `(${repeated(width, '?')})`);

/**
 * Writes whose results nobody reads, collected and then sent together (`flush`): as few queries as
 * fit MAX_STATEMENT_BYTES each (RDS Proxy pins a session on a statement over 16 KB), one round trip
 * per query, where the executor can (`executeBatch`, a session transaction); one by one elsewhere.
 * Statements run in the order given, and the first that fails stops the rest and is thrown, as if
 * each had been awaited in turn. Hand it only to functions that ignore what their statements answer
 * (it answers every one with an empty result).
 */
export class DeferredWrites implements SqlExecutor {
  readonly #target: SqlExecutor;
  #statements: SqlText[] = [];
  constructor(target: SqlExecutor) {
    this.#target = target;
  }
  async executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    return this.executeSql<R>(query.sql, query.parameters);
  }
  async executeSql<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    this.#statements.push({ sql, parameters });
    return { rows: [] };
  }
  /** Sends what was collected; the collector is empty afterwards. */
  async flush(): Promise<void> {
    const statements = this.#statements;
    this.#statements = [];
    const target = this.#target;
    if (!target.executeBatch) {
      for (const s of statements) await runSql(target, s.sql, s.parameters);
      return;
    }
    for (const group of packStatements(statements)) {
      const [only] = group;
      if (group.length === 1 && only) await runSql(target, only.sql, only.parameters);
      else await target.executeBatch(group);
    }
  }
}

/** Consecutive statements in groups whose text, joined by `;\n`, stays within `maxBytes`. */
export function packStatements(statements: readonly SqlText[], maxBytes = MAX_STATEMENT_BYTES): SqlText[][] {
  return chunkBySize(statements, (s) => sqlTextBytes(s) + 2, maxBytes);
}
